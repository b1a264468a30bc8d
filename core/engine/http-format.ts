/**
 * `http`, the one built-in route format: routes that proxy any request under a path prefix to
 * the pipeline's backends (see http-proxy.ts). It is not a format plugin, since nothing is
 * translated; the translator here only renders the errors the gateway itself makes, as the
 * plain JSON body API clients expect from a proxy: {"error":{"message","type","code"}}.
 */
import { GatewayError } from "../contract/errors.js";
import type { FormatTranslator } from "../contract/format.js";

export const HTTP_FORMAT = "http";

/** RouteInfo.method of an http route that names no method: it takes every one. */
export const ANY_METHOD = "*";

function noModelRequests(): never {
  throw new GatewayError({ status: 500, type: "internal", code: "http_route_has_no_model", message: "http routes carry no model requests", source: "core" });
}

export const httpFormat: FormatTranslator = {
  format: HTTP_FORMAT,
  peek: () => ({ model: undefined, stream: false }),
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
