/**
 * mcp-gateway: one governed MCP endpoint in front of every MCP backend of the pipeline. Routes
 * with `"endpoint": "mcp"` (POST, GET and DELETE on one path) are answered by the front
 * (front.ts: sessions, the SDK's Streamable HTTP transport); each session serves the backends'
 * tools, resources and prompts as one (session.ts, catalog.ts), and every JSON-RPC call passes
 * the pipeline's validate steps, the access rules and leaves a record (governed-call.ts).
 */
import { definePlugin, GatewayError } from "../../core/index.js";
import { answerBackendStates, stateOf } from "../../lib/health/report.js";
import { mcpUpstreamOf } from "../../lib/mcp/upstream.js";
import { compileAccess } from "./access.js";
import { Catalog, PLUGIN, type McpBackend } from "./catalog.js";
import type { McpGatewayConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { McpFront } from "./front.js";

export default definePlugin<McpGatewayConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Answers mcp routes: MCP Streamable HTTP in front of the pipeline's MCP servers (provider-mcp-stdio, provider-mcp-http), aggregated, with per-call policy and records.",
  configSchema,
  endpoints: {
    mcp: { description: "MCP Streamable HTTP (POST messages, GET the server's stream, DELETE the session) in front of the pipeline's MCP servers", body: "handler", formats: ["mcp"] },
  },
  create(config, env) {
    const separator = config.separator ?? "__";
    const prefixes = config.prefixes ?? {};
    for (const id of Object.keys(prefixes)) if (!env.backends.has(id)) throw configError(`prefixes names backend "${id}", which this pipeline does not have`);
    const backends: McpBackend[] = [];
    for (const backend of env.backends.values()) {
      const upstream = mcpUpstreamOf(backend.provider);
      if (upstream === undefined) throw configError(`backend ${backend.id} (${backend.use}) is no MCP server; mcp routes need provider-mcp-stdio or provider-mcp-http backends (put model backends in a pipeline of their own)`);
      backends.push({ id: backend.id, prefix: prefixes[backend.id] ?? backend.id, upstream });
    }
    if (backends.length === 0) throw configError("a pipeline with mcp routes needs at least one MCP backend (provider-mcp-stdio, provider-mcp-http)");
    const catalog = new Catalog(backends, separator);
    const toolsFor = compileAccess(config.access ?? []);
    const log = env.log.child({ step: env.id, plugin: PLUGIN });
    const leftOut = new Map<string, number>();
    let front: McpFront | undefined;
    return {
      apply(hooks) {
        front = new McpFront({
          hooks, catalog, toolsFor, log, leftOut,
          policy: { hooks, log, recordPayloads: config.recordPayloads ?? false },
          jsonResponse: config.response === "json",
          eventsPerStream: config.eventsPerStream ?? 256,
          streamsPerSession: config.streamsPerSession ?? 32,
          allowedOrigins: new Set(config.allowedOrigins ?? []),
          maxMessageBytes: config.maxMessageBytes ?? 4 * 1024 * 1024,
          maxSessions: config.maxSessions ?? 10_000,
          sessionIdleMs: config.sessionIdleMs ?? 30 * 60_000,
        }, log);
        const serving = front;
        hooks.endpoint.for("mcp").tapPromise(PLUGIN, (exchange, io) => serving.serve(exchange, io));
        answerBackendStates(hooks, PLUGIN, (states) => {
          for (const b of backends) stateOf(states, b.id).mcp = { ...b.upstream.status(), leftOutOfLists: leftOut.get(b.id) ?? 0 };
        });
      },
      async close() {
        await front?.close();
      },
    };
  },
});

function configError(message: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", source: PLUGIN, message: `${PLUGIN}: ${message}` });
}
