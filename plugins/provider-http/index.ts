/**
 * provider-http: a plain HTTP upstream behind an http route. The core has already stripped the
 * hop-by-hop headers and set x-forwarded-*; this provider settles what the upstream sees of the
 * rest (Host, dropped and static headers, the request id) and hands the call to the core's
 * pooled sender, which streams the body and passes back every status as a reply.
 */
import { definePlugin, GatewayError, type ForwardCall, type Provider, type UpstreamReply } from "../../core/index.js";
import { UpstreamPool } from "../../lib/upstream/pool.js";
import { offerSockets, socketUrl, type SocketCall, type SocketTarget } from "../../lib/upstream/socket-target.js";
import type { ProviderHttpConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "provider-http";

/** Set by the gateway or by HTTP itself: configuring them would break the exchange. */
const RESERVED = new Set(["host", "x-request-id", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade", "expect", "proxy-connection"]);

function configError(message: string, param: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", param, source: PLUGIN, message: `${PLUGIN}: ${message}` });
}

function staticHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (RESERVED.has(key)) throw configError(`header "${key}" is set by the gateway and cannot be configured${key === "host" ? " (see hostHeader)" : ""}`, `/headers/${name}`);
    if (/[\r\n\0]/.test(value)) throw configError(`header "${key}" has a line break or NUL in its value`, `/headers/${name}`);
    out[key] = value;
  }
  return out;
}

class HttpProvider implements Provider {
  /** No model format: model routes cannot use this backend. */
  readonly formats: readonly string[] = [];
  private readonly passHost: boolean;
  private readonly drop: ReadonlySet<string>;
  private readonly headers: Readonly<Record<string, string>>;

  private readonly baseUrl: string;

  constructor(private readonly pool: UpstreamPool, config: ProviderHttpConfig) {
    this.baseUrl = config.baseUrl;
    this.passHost = config.hostHeader === "client";
    this.drop = new Set((config.dropHeaders ?? []).map((name) => name.toLowerCase()));
    this.headers = staticHeaders(config.headers ?? {});
  }

  send(): Promise<UpstreamReply> {
    return Promise.reject(new GatewayError({
      status: 500, type: "internal", code: "forward_only", source: PLUGIN,
      message: `${PLUGIN} backends serve http routes only; model requests need a model provider (provider-openai…)`,
    }));
  }

  forward(call: ForwardCall): Promise<UpstreamReply> {
    return this.pool.forward(call, this.upstreamHeaders(call));
  }

  /** A proxied WebSocket: the same URL and header rules as a forwarded request. */
  socketTarget(call: SocketCall): SocketTarget {
    return { url: socketUrl(this.baseUrl, call.path), headers: this.upstreamHeaders(call) };
  }

  /** One copy, leaving out what does not go (rather than a copy and deletes, which slow every later use of the object). */
  private upstreamHeaders(call: { headers: Record<string, string | string[]>; requestId: string }): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {};
    for (const name in call.headers) {
      // Without a host header undici sends the origin's own.
      if ((name === "host" && !this.passHost) || this.drop.has(name)) continue;
      headers[name] = call.headers[name]!;
    }
    Object.assign(headers, this.headers);
    headers["x-request-id"] = call.requestId;
    return headers;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export default definePlugin<ProviderHttpConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "A plain HTTP upstream for http routes: requests forwarded as they came, replies streamed back whatever their status.",
  configSchema,
  create(config) {
    const pool = new UpstreamPool({
      baseUrl: config.baseUrl,
      source: PLUGIN,
      connections: config.connections,
      connectTimeoutMs: config.connectTimeoutMs ?? 10_000,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs ?? 4_000,
      keepAliveMaxTimeoutMs: config.keepAliveMaxTimeoutMs ?? 600_000,
      secrets: Object.values(config.headers ?? {}),
    });
    const provider = new HttpProvider(pool, config);
    offerSockets(provider, (call, connect) => connect(provider.socketTarget(call)));
    return provider;
  },
});
