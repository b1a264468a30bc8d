/**
 * provider-anthropic: Anthropic's Messages API. It only decides the URL and headers; pooling
 * and error mapping (Anthropic's 529 "overloaded" included) are the core's UpstreamPool.
 */
import { apiKeyRingFor, definePlugin, GatewayError, UpstreamPool, type ApiKeyRing, type Logger, type Provider, type UpstreamCall, type UpstreamReply } from "../../core/index.js";
import type { ProviderAnthropicConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "provider-anthropic";
const FORMAT = "anthropic-messages";

class AnthropicProvider implements Provider {
  readonly formats = [FORMAT] as const;
  private readonly pool: UpstreamPool;
  /** Set with apiKeys: the key goes per request instead of as a static header. */
  private readonly keys: ApiKeyRing | undefined;

  constructor(config: ProviderAnthropicConfig, log: Logger) {
    this.keys = apiKeyRingFor(config, PLUGIN, log);
    const extra = config.headers ?? {};
    const beta = config.beta ?? [];
    this.pool = new UpstreamPool({
      baseUrl: config.baseUrl ?? "https://api.anthropic.com",
      source: PLUGIN,
      connections: config.connections,
      connectTimeoutMs: config.connectTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      keepAliveMaxTimeoutMs: config.keepAliveMaxTimeoutMs,
      headers: {
        ...(config.apiKey === undefined ? {} : { "x-api-key": config.apiKey }),
        "anthropic-version": config.version ?? "2023-06-01",
        ...(beta.length === 0 ? {} : { "anthropic-beta": beta.join(",") }),
        ...extra,
      },
      secrets: [...(config.apiKey === undefined ? [] : [config.apiKey]), ...(config.apiKeys ?? []), ...Object.values(extra)],
    });
  }

  async send(call: UpstreamCall): Promise<UpstreamReply> {
    if (call.format !== FORMAT) {
      throw new GatewayError({ status: 500, type: "internal", code: "format_not_supported", message: `${PLUGIN}: this backend does not speak "${call.format}"`, source: PLUGIN });
    }
    const request = { path: "/v1/messages", body: JSON.stringify(call.body) };
    if (this.keys === undefined) return this.pool.send(request, call);
    return this.keys.send((key) => this.pool.send({ ...request, headers: { "x-api-key": key } }, call));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export default definePlugin<ProviderAnthropicConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "Anthropic's Messages API (or a proxy speaking it), pooled and kept alive.",
  configSchema,
  create(config, env) {
    return new AnthropicProvider(config, env.log);
  },
});
