/**
 * http-proxy: switchyard as the reverse proxy and load balancer an ops team would otherwise run
 * nginx for. It answers routes with `"endpoint": "proxy"` (format `http`): any request under the
 * route's path prefix goes to the pipeline's backends as it came, through the same auth, validate,
 * selector and health steps and the core's attempt loop as model requests (proxy.ts).
 */
import { definePlugin, GatewayError, type Attempt } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { PLUGIN, proxyRequest } from "./proxy.js";
import { proxySocket } from "./socket.js";
import { SessionCounter } from "../../lib/websocket/sessions.js";
import type { HttpProxyConfig } from "./config.generated.js";

export default definePlugin<HttpProxyConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Answers proxy routes: any request under the route's path goes to the pipeline's backends as it came (provider-http), bodies streamed both ways.",
  configSchema,
  endpoints: {
    proxy: {
      description: "any request under the route's path prefix, forwarded to the pipeline's backends as it came",
      body: "handler",
      match: "prefix",
      formats: ["http"],
    },
  },
  create(config, env) {
    const websocket = { idleTimeoutMs: config.websocket?.idleTimeoutMs ?? 300_000, maxMessageBytes: config.websocket?.maxMessageBytes ?? 16_777_216 };
    const sessions = new SessionCounter();
    if (env.backends.size === 0) throw configError("a pipeline with proxy routes needs at least one backend (provider-http)");
    for (const b of env.backends.values()) {
      if (b.provider.forward === undefined) {
        throw configError(`backend ${b.id} (${b.use}) cannot serve this pipeline's proxy routes: its provider does not forward requests; use provider-http, or move the proxy routes to a pipeline of their own`);
      }
    }
    // Every backend, in file order: proxy routes ignore `models`.
    const candidates: readonly Attempt[] = [...env.backends.values()].map((backend) => Object.freeze({ backend, model: "" }));
    return {
      apply(hooks) {
        hooks.endpoint.for("proxy").tapPromise(PLUGIN, async (exchange, io) => {
          if (io.upgrade) await proxySocket(exchange, io, hooks, candidates, websocket, sessions);
          else await proxyRequest(exchange, io, hooks, candidates);
          return "written";
        });
        sessions.answer(hooks, env.id);
      },
    };
  },
});

function configError(message: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", source: PLUGIN, message });
}
