/**
 * provider-openai: any upstream that speaks OpenAI's HTTP API (Chat Completions, Responses),
 * Azure OpenAI included. It only decides the URL and headers; pooling and error mapping are the
 * core's UpstreamPool, shared with every network provider.
 */
import { apiKeyRingFor, type ApiKeyRing } from "../../lib/upstream/credentials.js";
import { definePlugin, GatewayError, type EmbeddingCall, type EmbeddingResult, type Logger, type Provider, type UpstreamCall, type UpstreamReply } from "../../core/index.js";
import { UpstreamPool } from "../../lib/upstream/pool.js";
import { offerSockets, socketUrl, type SocketOpener } from "../../lib/upstream/socket-target.js";
import { badReply, checkedVectors, estimateEmbeddingTokens, readEmbeddingReply } from "../../lib/upstream/embeddings.js";
import type { ProviderOpenaiConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "provider-openai";

const PATHS: Record<string, string> = {
  "openai-chat": "/chat/completions",
  "openai-responses": "/responses",
};

class OpenAiProvider implements Provider {
  readonly formats: readonly string[];
  /** OpenAI's limit on inputs per embeddings request. */
  readonly maxEmbeddingBatch = 2048;
  private readonly pool: UpstreamPool;
  private readonly azureVersion: string | undefined;
  /** Set with apiKeys: the key goes per request instead of as a static header. */
  private readonly keys: ApiKeyRing | undefined;
  /** For realtime sockets, which the pool does not carry: the base URL and the headers the pool sends. */
  private readonly baseUrl: string;
  private readonly socketHeaders: Record<string, string>;

  constructor(config: ProviderOpenaiConfig, log: Logger) {
    this.baseUrl = config.baseUrl;
    this.formats = config.formats ?? ["openai-chat", "openai-responses"];
    this.azureVersion = config.azure ? encodeURIComponent(config.azure.apiVersion ?? "2024-10-21") : undefined;
    this.keys = apiKeyRingFor(config, PLUGIN, log);
    const extra = config.headers ?? {};
    this.socketHeaders = {
      ...(config.apiKey === undefined ? {} : this.authHeaders(config.apiKey)),
      ...(config.organization === undefined ? {} : { "openai-organization": config.organization }),
      ...(config.project === undefined ? {} : { "openai-project": config.project }),
      ...extra,
    };
    this.pool = new UpstreamPool({
      baseUrl: config.baseUrl,
      source: PLUGIN,
      connections: config.connections,
      connectTimeoutMs: config.connectTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      keepAliveMaxTimeoutMs: config.keepAliveMaxTimeoutMs,
      headers: this.socketHeaders,
      secrets: [...(config.apiKey === undefined ? [] : [config.apiKey]), ...(config.apiKeys ?? []), ...Object.values(extra)],
    });
  }

  async send(call: UpstreamCall): Promise<UpstreamReply> {
    const request = { path: this.pathFor(call), body: call.rawBody ?? JSON.stringify(call.body) };
    if (this.keys === undefined) return this.pool.send(request, call);
    return this.keys.send((key) => this.pool.send({ ...request, headers: this.authHeaders(key) }, call));
  }

  /** OpenAI's POST /embeddings (float vectors: the endpoint encodes base64 for clients that ask). */
  async embed(call: EmbeddingCall): Promise<EmbeddingResult> {
    const path = this.azureVersion === undefined ? "/embeddings" : `/openai/deployments/${encodeURIComponent(call.model)}/embeddings?api-version=${this.azureVersion}`;
    const body = JSON.stringify({ model: call.model, input: call.inputs, encoding_format: "float", ...(call.dimensions === undefined ? {} : { dimensions: call.dimensions }) });
    const upstream = { ...call, stream: false, format: "openai-embeddings", body: {} };
    const request = { path, body };
    const reply = this.keys === undefined ? await this.pool.send(request, upstream) : await this.keys.send((key) => this.pool.send({ ...request, headers: this.authHeaders(key) }, upstream));
    const parsed = (await readEmbeddingReply(reply.body, PLUGIN)) as { data?: unknown; usage?: { prompt_tokens?: unknown } };
    if (!Array.isArray(parsed.data)) throw badReply(PLUGIN, "no data");
    // OpenAI gives each vector its input's index; order by it rather than trust the array's order.
    const ordered = [...(parsed.data as { index?: unknown; embedding?: unknown }[])].sort((a, b) => Number(a.index) - Number(b.index));
    const vectors = checkedVectors(ordered.map((d) => d.embedding), call.inputs.length, PLUGIN);
    const counted = parsed.usage?.prompt_tokens;
    return { vectors, inputTokens: typeof counted === "number" ? counted : estimateEmbeddingTokens(call.inputs) };
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** Realtime: `call.path` below the base URL; Azure names the deployment and API version in the query instead. */
  readonly openSocket: SocketOpener = (call, connect) => {
    const path = this.azureVersion === undefined || call.model === undefined ? call.path : `/openai/realtime?api-version=${this.azureVersion}&deployment=${encodeURIComponent(call.model)}`;
    const target = (auth: Record<string, string>) => ({ url: socketUrl(this.baseUrl, path), headers: { ...call.headers, ...this.socketHeaders, ...auth, "x-request-id": call.requestId } });
    if (this.keys === undefined) return connect(target({}));
    return this.keys.send((key) => connect(target(this.authHeaders(key))));
  };

  private authHeaders(key: string): Record<string, string> {
    return this.azureVersion ? { "api-key": key } : { authorization: `Bearer ${key}` };
  }

  private pathFor(call: UpstreamCall): string {
    const path = this.formats.includes(call.format) ? PATHS[call.format] : undefined;
    if (path === undefined) {
      throw new GatewayError({ status: 500, type: "internal", code: "format_not_supported", message: `${PLUGIN}: this backend does not speak "${call.format}"`, source: PLUGIN });
    }
    if (this.azureVersion === undefined) return path;
    // Azure routes chat by deployment in the path; Responses names the deployment in the body's model.
    if (call.format === "openai-chat") return `/openai/deployments/${encodeURIComponent(call.model)}/chat/completions?api-version=${this.azureVersion}`;
    return `/openai${path}?api-version=${this.azureVersion}`;
  }
}

export default definePlugin<ProviderOpenaiConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "Any OpenAI-compatible upstream (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp, Groq, Together, OpenRouter…), pooled and kept alive.",
  configSchema,
  create(config, env) {
    const provider = new OpenAiProvider(config, env.log);
    offerSockets(provider, provider.openSocket);
    return provider;
  },
});
