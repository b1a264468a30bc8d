/**
 * provider-anthropic: Anthropic's Messages API. It only decides the URL and headers; pooling
 * and error mapping (Anthropic's 529 "overloaded" included) are the core's UpstreamPool.
 */
import type { Readable } from "node:stream";
import { apiKeyRingFor, type ApiKeyRing } from "../../lib/upstream/credentials.js";
import { definePlugin, GatewayError, readBody, type Logger, type Provider, type TokenCount, type UpstreamCall, type UpstreamReply } from "../../core/index.js";
import { UpstreamPool, type UpstreamRequest } from "../../lib/upstream/pool.js";
import type { ProviderAnthropicConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "provider-anthropic";
const FORMAT = "anthropic-messages";

/** What count_tokens takes of a Messages request; it refuses generation settings such as max_tokens and stream. */
const COUNT_FIELDS = ["model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"];
/** A count reply is a few bytes; anything much larger is not one. */
const COUNT_BODY_LIMIT = 64 * 1024;

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
    checkFormat(call);
    return this.post({ path: "/v1/messages", body: call.rawBody ?? JSON.stringify(call.body) }, call);
  }

  /** Anthropic's own count: POST /v1/messages/count_tokens with the request's countable fields. */
  async countTokens(call: UpstreamCall): Promise<TokenCount> {
    checkFormat(call);
    const body = Object.fromEntries(COUNT_FIELDS.filter((k) => call.body[k] !== undefined).map((k) => [k, call.body[k]]));
    const reply = await this.post({ path: "/v1/messages/count_tokens", body: JSON.stringify(body) }, { ...call, stream: false });
    const parsed = await readJson(reply.body);
    const inputTokens = (parsed as { input_tokens?: unknown } | undefined)?.input_tokens;
    if (typeof inputTokens !== "number" || !Number.isInteger(inputTokens) || inputTokens < 0) {
      throw new GatewayError({ status: 502, type: "upstream_error", code: "bad_upstream_response", message: "the upstream's token count has no input_tokens", failure: "status", upstreamStatus: 502, source: PLUGIN });
    }
    return { inputTokens };
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private post(request: UpstreamRequest, call: UpstreamCall): Promise<UpstreamReply> {
    if (this.keys === undefined) return this.pool.send(request, call);
    return this.keys.send((key) => this.pool.send({ ...request, headers: { "x-api-key": key } }, call));
  }
}

function checkFormat(call: UpstreamCall): void {
  if (call.format !== FORMAT) {
    throw new GatewayError({ status: 500, type: "internal", code: "format_not_supported", message: `${PLUGIN}: this backend does not speak "${call.format}"`, source: PLUGIN });
  }
}

/** A small JSON reply body; undefined when it is not JSON. A body that breaks off fails like one that never came. */
async function readJson(body: Readable): Promise<unknown> {
  const raw = await readBody(body, { maxBytes: COUNT_BODY_LIMIT, overLimit: "truncate" }).catch((err: unknown) => {
    throw GatewayError.upstreamBodyBroke(err, PLUGIN);
  });
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return undefined;
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
