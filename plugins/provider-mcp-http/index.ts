/**
 * provider-mcp-http: a remote MCP server over Streamable HTTP (http-server.ts). The backend is a
 * Provider that carries an MCP upstream (lib/mcp/upstream.ts); it answers no model requests.
 */
import { definePlugin, type Provider } from "../../core/index.js";
import { modelCallRefused, type McpProvider } from "../../lib/mcp/upstream.js";
import type { ProviderMcpHttpConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { HttpServerSessions, PLUGIN } from "./http-server.js";

export default definePlugin<ProviderMcpHttpConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "A remote MCP server over Streamable HTTP: one upstream session per gateway session, dropped streams resumed with Last-Event-ID (mcp routes only).",
  configSchema,
  create(config, env): Provider {
    const sessions = new HttpServerSessions(env.id, {
      url: new URL(config.url),
      headers: config.headers ?? {},
      requestTimeoutMs: config.requestTimeoutMs ?? 60_000,
      reconnect: {
        initialReconnectionDelay: config.reconnectInitialDelayMs ?? 500,
        maxReconnectionDelay: config.reconnectMaxDelayMs ?? 30_000,
        reconnectionDelayGrowFactor: 2,
        maxRetries: config.reconnectMaxRetries ?? 10,
      },
    }, env.log.child({ backend: env.id, plugin: PLUGIN }));
    const provider: McpProvider = {
      formats: [],
      mcp: sessions,
      send: () => modelCallRefused(PLUGIN),
      close: () => sessions.closeAll(),
    };
    return provider;
  },
});
