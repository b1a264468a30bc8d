/**
 * The translator of a route format that carries no model requests (`http` proxy routes, `mcp`
 * routes): nothing is translated, and every model-request method refuses with one 400 that says
 * which endpoint and step the route needs. Only how the gateway's own errors look differs.
 */
import { GatewayError, type FormatTranslator, type RenderedError } from "../../core/index.js";

export function nonModelFormat(spec: {
  format: string;
  /** The plugin, as the refusal's source. */
  plugin: string;
  /** What the route should say instead, for the refusal: `"endpoint": "proxy" and add the http-proxy step`. */
  instead: string;
  renderError(err: GatewayError): RenderedError;
}): FormatTranslator {
  const noModelRequests = (): never => {
    throw new GatewayError({
      status: 400, type: "invalid_request", code: `${spec.format}_route_has_no_model`, source: spec.plugin,
      message: `routes of format ${spec.format} carry no model requests: give the route ${spec.instead}`,
    });
  };
  return {
    format: spec.format,
    peek: noModelRequests,
    renderError: spec.renderError,
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
}
