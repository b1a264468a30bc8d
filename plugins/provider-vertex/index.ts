/**
 * provider-vertex: Google Vertex AI, for Gemini models (publisher google: the gemini format, sent
 * to `:generateContent` / `:streamGenerateContent?alt=sse`) or Anthropic's models (publisher
 * anthropic: the anthropic-messages format, sent to `:rawPredict` / `:streamRawPredict` with the
 * model in the URL and `anthropic_version` in the body). The translators do the formats; this
 * only builds the URL, shapes the body for Vertex and carries the OAuth2 bearer token.
 */
import { definePlugin, GatewayError, type Logger, type Provider, type UpstreamCall, type UpstreamReply } from "../../core/index.js";
import { UpstreamPool } from "../../lib/upstream/pool.js";
import { fixedToken, parseServiceAccountKey, ServiceAccountTokens, type AccessTokenSource } from "./access-token.js";
import type { ProviderVertexConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "provider-vertex";

/** A Vertex model id: one path segment (`gemini-2.0-flash-001`, `claude-sonnet-4@20250514`). */
const MODEL_ID = /^(?!\.{1,2}$)[^/\\?#]+$/;

class VertexProvider implements Provider {
  readonly formats: readonly string[];
  private readonly pool: UpstreamPool;
  private readonly tokens: AccessTokenSource;
  private readonly modelsPath: string;
  private readonly anthropic: boolean;
  private readonly anthropicVersion: string;

  constructor(config: ProviderVertexConfig, _log: Logger) {
    this.tokens = tokenSourceFor(config);
    this.anthropic = config.publisher === "anthropic";
    this.formats = [this.anthropic ? "anthropic-messages" : "gemini"];
    this.anthropicVersion = config.anthropicVersion ?? "vertex-2023-10-16";
    const location = config.location ?? "us-central1";
    const host = location === "global" ? "aiplatform.googleapis.com" : `${location}-aiplatform.googleapis.com`;
    this.modelsPath = `/v1/projects/${config.projectId}/locations/${location}/publishers/${config.publisher ?? "google"}/models`;
    this.pool = new UpstreamPool({
      baseUrl: config.baseUrl ?? `https://${host}`,
      source: PLUGIN,
      connections: config.connections,
      connectTimeoutMs: config.connectTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      keepAliveMaxTimeoutMs: config.keepAliveMaxTimeoutMs,
      secrets: this.tokens.secrets,
    });
  }

  async send(call: UpstreamCall): Promise<UpstreamReply> {
    if (call.format !== this.formats[0]) {
      throw new GatewayError({ status: 500, type: "internal", code: "format_not_supported", message: `${PLUGIN}: this backend does not speak "${call.format}"`, source: PLUGIN });
    }
    if (!MODEL_ID.test(call.model)) throw GatewayError.invalidRequest("a Vertex model id is one path segment, with no / and no dot segment", "model", "invalid_model");
    // `@` stays as Vertex writes it in its own model ids (claude-sonnet-4@20250514).
    const model = encodeURIComponent(call.model).replace(/%40/g, "@");
    const method = this.anthropic ? (call.stream ? "streamRawPredict" : "rawPredict") : call.stream ? "streamGenerateContent?alt=sse" : "generateContent";
    const path = `${this.modelsPath}/${model}:${method}`;
    const body = this.bodyFor(call);
    const token = await this.tokens.token(call);
    try {
      return await this.pool.send({ path, body, headers: { authorization: `Bearer ${token}` } }, call);
    } catch (err) {
      if (err instanceof GatewayError && err.upstreamStatus === 401) this.tokens.rejected(token);
      throw err;
    }
  }

  close(): Promise<void> {
    return Promise.all([this.pool.close(), this.tokens.close()]).then(() => undefined);
  }

  /** The model travels in the URL; Anthropic on Vertex takes its API version in the body. */
  private bodyFor(call: UpstreamCall): string | Buffer {
    if (!this.anthropic && call.rawBody !== undefined && !("model" in call.body)) return call.rawBody;
    const { model: _inPath, ...body } = call.body;
    return JSON.stringify(this.anthropic ? { anthropic_version: this.anthropicVersion, ...body } : body);
  }
}

function tokenSourceFor(config: ProviderVertexConfig): AccessTokenSource {
  if ((config.serviceAccountKey === undefined) === (config.accessToken === undefined)) throw configError("set serviceAccountKey or accessToken (one of them)");
  if (config.accessToken !== undefined) return fixedToken(config.accessToken);
  const key = parseServiceAccountKey(config.serviceAccountKey!, configError);
  return new ServiceAccountTokens(key, config.tokenUrl, config.scopes ?? ["https://www.googleapis.com/auth/cloud-platform"], PLUGIN);
}

function configError(message: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", message: `${PLUGIN}: ${message}`, source: PLUGIN });
}

export default definePlugin<ProviderVertexConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "Google Vertex AI: Gemini (generateContent) or Anthropic (rawPredict) models, with service-account OAuth2 tokens.",
  configSchema,
  create(config, env) {
    return new VertexProvider(config, env.log);
  },
});
