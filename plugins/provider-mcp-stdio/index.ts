/**
 * provider-mcp-stdio: a local MCP server run as one long-lived subprocess per backend, shared by
 * every gateway session (stdio-server.ts). The backend is a Provider that carries an MCP upstream
 * (lib/mcp/upstream.ts); it answers no model requests.
 */
import { definePlugin, type Provider } from "../../core/index.js";
import { modelCallRefused, type McpProvider } from "../../lib/mcp/upstream.js";
import type { ProviderMcpStdioConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { PLUGIN, StdioServer } from "./stdio-server.js";

export default definePlugin<ProviderMcpStdioConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "A local MCP server as one shared subprocess over stdio: restarted with backoff, stderr to the log, stopped on drain (mcp routes only).",
  configSchema,
  create(config, env): Provider {
    const server = new StdioServer(env.id, {
      command: config.command,
      args: config.args ?? [],
      env: config.env ?? {},
      cwd: config.cwd === undefined ? undefined : env.resolvePath(config.cwd),
      startTimeoutMs: config.startTimeoutMs ?? 10_000,
      requestTimeoutMs: config.requestTimeoutMs ?? 60_000,
      restartInitialDelayMs: config.restartInitialDelayMs ?? 200,
      restartMaxDelayMs: config.restartMaxDelayMs ?? 30_000,
      waitForRestartMs: config.waitForRestartMs ?? 5_000,
    }, env.log.child({ backend: env.id, plugin: PLUGIN }));
    server.start();
    const provider: McpProvider = {
      formats: [],
      mcp: server,
      send: () => modelCallRefused(PLUGIN),
      close: () => server.stop(),
    };
    return provider;
  },
});
