/**
 * provider-gemini: Google's Generative Language API. The model travels in the URL path and the
 * stream choice in the method name, so the body goes without `model`. Pooling and error mapping
 * are the core's UpstreamPool.
 */
import { apiKeyRingFor, type ApiKeyRing } from "../../lib/upstream/credentials.js";
import { definePlugin, GatewayError, readBody, type EmbeddingCall, type EmbeddingResult, type Logger, type Provider, type TokenCount, type UpstreamCall, type UpstreamReply } from "../../core/index.js";
import { UpstreamPool } from "../../lib/upstream/pool.js";
import { offerSockets, socketUrl, type SocketOpener } from "../../lib/upstream/socket-target.js";
import { badReply, checkedVectors, estimateEmbeddingTokens, readEmbeddingReply, textInputs } from "../../lib/upstream/embeddings.js";
import type { ProviderGeminiConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "provider-gemini";
const FORMAT = "gemini";

class GeminiProvider implements Provider {
  readonly formats = [FORMAT] as const;
  /** Gemini's limit on requests per batchEmbedContents. */
  readonly maxEmbeddingBatch = 100;
  private readonly pool: UpstreamPool;
  private readonly version: string;
  /** Set with apiKeys: the key goes per request instead of as a static header. */
  private readonly keys: ApiKeyRing | undefined;
  /** For Live sockets, which the pool does not carry: the base URL and the headers the pool sends. */
  private readonly baseUrl: string;
  private readonly socketHeaders: Record<string, string>;

  constructor(config: ProviderGeminiConfig, log: Logger) {
    this.keys = apiKeyRingFor(config, PLUGIN, log);
    const extra = config.headers ?? {};
    this.version = config.apiVersion ?? "v1beta";
    this.baseUrl = config.baseUrl ?? "https://generativelanguage.googleapis.com";
    this.socketHeaders = { ...(config.apiKey === undefined ? {} : { "x-goog-api-key": config.apiKey }), ...extra };
    this.pool = new UpstreamPool({
      baseUrl: this.baseUrl,
      source: PLUGIN,
      connections: config.connections,
      connectTimeoutMs: config.connectTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      keepAliveMaxTimeoutMs: config.keepAliveMaxTimeoutMs,
      headers: this.socketHeaders,
      secrets: [...(config.apiKey === undefined ? [] : [config.apiKey]), ...(config.apiKeys ?? []), ...Object.values(extra)],
    });
  }

  /** Gemini Live: `call.path` below the base URL (`/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`), the key as a header. */
  readonly openSocket: SocketOpener = (call, connect) => {
    const target = (auth: Record<string, string>) => ({ url: socketUrl(this.baseUrl, call.path), headers: { ...call.headers, ...this.socketHeaders, ...auth, "x-request-id": call.requestId } });
    if (this.keys === undefined) return connect(target({}));
    return this.keys.send((key) => connect(target({ "x-goog-api-key": key })));
  };

  async send(call: UpstreamCall): Promise<UpstreamReply> {
    checkFormat(call);
    const method = call.stream ? "streamGenerateContent?alt=sse" : "generateContent";
    const path = `/${this.version}/${resourceOf(call.model)}:${method}`;
    // The model is in the path: a body naming one too is sent without it.
    let payload: string | Buffer;
    if (call.rawBody !== undefined && !("model" in call.body)) payload = call.rawBody;
    else {
      const { model: _inPath, ...body } = call.body;
      payload = JSON.stringify(body);
    }
    return this.post({ path, body: payload }, call);
  }

  /**
   * Google's own count: `models/{model}:countTokens` with the whole request as its
   * `generateContentRequest`, so the system instruction and tools count too.
   */
  async countTokens(call: UpstreamCall): Promise<TokenCount> {
    checkFormat(call);
    const resource = resourceOf(call.model);
    const { model: _inPath, ...request } = call.body;
    // A client's own countTokens body may already be wrapped; a generate request is wrapped here.
    const body = JSON.stringify("generateContentRequest" in request ? request : { generateContentRequest: { model: resource, ...request } });
    const reply = await this.post({ path: `/${this.version}/${resource}:countTokens`, body }, { ...call, stream: false });
    const raw = await readBody(reply.body, { maxBytes: COUNT_BODY_LIMIT, overLimit: "truncate" }).catch((err: unknown) => {
      throw GatewayError.upstreamBodyBroke(err, PLUGIN);
    });
    let total: unknown;
    try {
      total = (JSON.parse(raw.toString("utf8")) as { totalTokens?: unknown }).totalTokens;
    } catch {
      total = undefined;
    }
    if (typeof total !== "number" || !Number.isInteger(total) || total < 0) {
      throw new GatewayError({ status: 502, type: "upstream_error", code: "bad_upstream_response", message: "the upstream's token count has no totalTokens", failure: "status", upstreamStatus: 502, source: PLUGIN });
    }
    return { inputTokens: total };
  }

  private post(request: { path: string; body: string | Buffer }, call: UpstreamCall): Promise<UpstreamReply> {
    if (this.keys === undefined) return this.pool.send(request, call);
    return this.keys.send((key) => this.pool.send({ ...request, headers: { "x-goog-api-key": key } }, call));
  }

  /** batchEmbedContents: one request per text, vectors back in order. Gemini counts no tokens for embeddings: estimated. */
  async embed(call: EmbeddingCall): Promise<EmbeddingResult> {
    const texts = textInputs(call, PLUGIN);
    const resource = resourceOf(call.model);
    const requests = texts.map((text) => ({ model: decodeURIComponent(resource), content: { parts: [{ text }] }, ...(call.dimensions === undefined ? {} : { outputDimensionality: call.dimensions }) }));
    const request = { path: `/${this.version}/${resource}:batchEmbedContents`, body: JSON.stringify({ requests }) };
    const upstream = { ...call, stream: false, format: FORMAT, body: {} };
    const reply = this.keys === undefined ? await this.pool.send(request, upstream) : await this.keys.send((key) => this.pool.send({ ...request, headers: { "x-goog-api-key": key } }, upstream));
    const parsed = (await readEmbeddingReply(reply.body, PLUGIN)) as { embeddings?: { values?: unknown }[] };
    if (!Array.isArray(parsed.embeddings)) throw badReply(PLUGIN, "no embeddings");
    return { vectors: checkedVectors(parsed.embeddings.map((e) => e?.values), texts.length, PLUGIN), inputTokens: estimateEmbeddingTokens(texts) };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** A token count reply is a few bytes; anything past this is not one. */
const COUNT_BODY_LIMIT = 64 * 1024;

function checkFormat(call: UpstreamCall): void {
  if (call.format !== FORMAT) {
    throw new GatewayError({ status: 500, type: "internal", code: "format_not_supported", message: `${PLUGIN}: this backend does not speak "${call.format}"`, source: PLUGIN });
  }
}

/** A model resource and nothing else: the name becomes path segments of the upstream URL (issue 11, item 3). */
const MODEL_RESOURCE = /^(models|tunedModels)\/(?!\.{1,2}$)[^/]+$/;

/** `gemini-2.0-flash` -> `models/gemini-2.0-flash`; full names (`models/…`, `tunedModels/…`) stay as given. */
function resourceOf(model: string): string {
  const name = model.includes("/") ? model : `models/${model}`;
  if (!MODEL_RESOURCE.test(name)) {
    throw GatewayError.invalidRequest('a Gemini model is named "name", "models/name" or "tunedModels/name", with no "/" and no dot segment in the name', "model", "invalid_model");
  }
  return name.split("/").map(encodeURIComponent).join("/");
}

export default definePlugin<ProviderGeminiConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "Google's Gemini (Generative Language API) or a proxy speaking it, pooled and kept alive.",
  configSchema,
  create(config, env) {
    const provider = new GeminiProvider(config, env.log);
    offerSockets(provider, provider.openSocket);
    return provider;
  },
});
