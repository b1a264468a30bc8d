/**
 * format-mcp (`mcp`): the format of MCP routes (the mcp-gateway step). Nothing is translated; the
 * gateway's own errors before a JSON-RPC message is read (a missing key, an unknown route, a
 * closed pipeline) reach the MCP client as a JSON-RPC error body with the HTTP status kept.
 */
import { definePlugin, type FormatTranslator } from "../../core/index.js";
import { jsonRpcErrorBody, jsonRpcErrorOf } from "../../lib/mcp/json-rpc-errors.js";
import { nonModelFormat } from "../../lib/wire/non-model-format.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "format-mcp";

export const mcpTranslator: FormatTranslator = nonModelFormat({
  format: "mcp",
  plugin: PLUGIN,
  instead: '"endpoint": "mcp" and add the mcp-gateway step',
  renderError: (err) => ({ status: err.status, body: jsonRpcErrorBody(jsonRpcErrorOf(err)) }),
});

export default definePlugin({
  kind: "format",
  name: PLUGIN,
  format: "mcp",
  description: "MCP clients on mcp routes: nothing translated; the gateway's own errors as JSON-RPC error bodies.",
  configSchema,
  translator: mcpTranslator,
});
