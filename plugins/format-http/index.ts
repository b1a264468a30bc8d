/**
 * format-http (`http`): the format of routes whose clients speak plain HTTP, not a model API —
 * proxy routes. Nothing on them is translated; the gateway's own errors are the plain JSON body
 * API clients expect from a proxy: {"error":{"message","type","code"}}. A model request on such a
 * route (a route left at `endpoint: "generate"`) is refused with that error, not misread.
 */
import { definePlugin, GatewayError, type FormatTranslator } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "format-http";

function noModelRequests(): never {
  throw new GatewayError({
    status: 400, type: "invalid_request", code: "http_route_has_no_model", source: PLUGIN,
    message: 'routes of format http carry no model requests: give the route "endpoint": "proxy" and add the http-proxy step',
  });
}

export const httpTranslator: FormatTranslator = {
  format: "http",
  peek: noModelRequests,
  renderError: (err) => ({ status: err.status, body: { error: { message: err.message, type: err.type, code: err.code } } }),
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
  format: "http",
  description: "Plain HTTP clients on proxy routes: nothing translated; the gateway's own errors as {\"error\":{\"message\",\"type\",\"code\"}}.",
  configSchema,
  translator: httpTranslator,
});
