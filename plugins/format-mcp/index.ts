/**
 * format-mcp (`mcp`): the format of MCP routes (the mcp-gateway step). Nothing is translated; the
 * gateway's own errors before a JSON-RPC message is read (a missing key, an unknown route, a
 * closed pipeline) reach the MCP client as a JSON-RPC error body with the HTTP status kept.
 */
import { definePlugin, GatewayError, type FormatTranslator } from "../../core/index.js";
import { jsonRpcErrorBody, jsonRpcErrorOf } from "../../lib/mcp/json-rpc-errors.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "format-mcp";

function noModelRequests(): never {
  throw new GatewayError({
    status: 400, type: "invalid_request", code: "mcp_route_has_no_model", source: PLUGIN,
    message: 'routes of format mcp carry no model requests: give the route "endpoint": "mcp" and add the mcp-gateway step',
  });
}

export const mcpTranslator: FormatTranslator = {
  format: "mcp",
  peek: noModelRequests,
  renderError: (err) => ({ status: err.status, body: jsonRpcErrorBody(jsonRpcErrorOf(err)) }),
  requestToIr: noModelRequests,
  responseFromIr: noModelRequests,
  createStreamEncoder: noModelRequests,
  requestFromIr: noModelRequests,
  responseToIr: noModelRequests,
  createStreamDecoder: noModelRequests,
  preparePassthrough: noModelRequests,
  usageOf: () => undefined,
  createStreamObserver: noModelRequests,
};

export default definePlugin({
  kind: "format",
  name: PLUGIN,
  format: "mcp",
  description: "MCP clients on mcp routes: nothing translated; the gateway's own errors as JSON-RPC error bodies.",
  configSchema,
  translator: mcpTranslator,
});
