/**
 * Errors in Anthropic's shape, both ways: GatewayError -> `{"type":"error","error":{type,message}}`
 * for clients, and Anthropic error objects (`event: error` mid-stream, error bodies) -> GatewayError.
 */
import { GatewayError, type GatewayErrorType, type RenderedError } from "../../core/index.js";
import { scrubbedUpstreamErrorFields, malformedUpstreamError } from "../../lib/upstream/errors.js";

export const PLUGIN = "format-anthropic-messages";

const TYPE_NAMES: Record<GatewayErrorType, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  payload_too_large: "request_too_large",
  rate_limit: "rate_limit_error",
  budget_exceeded: "billing_error",
  upstream_error: "api_error",
  timeout: "timeout_error",
  unavailable: "overloaded_error",
  internal: "api_error",
};

export function anthropicErrorBody(err: GatewayError): { type: "error"; error: { type: string; message: string } } {
  return { type: "error", error: { type: TYPE_NAMES[err.type], message: err.message } };
}

export function renderAnthropicError(err: GatewayError): RenderedError {
  return { status: err.status, body: anthropicErrorBody(err) };
}

/** A body or stream the upstream sent that is not this format. */
export function malformedUpstream(message: string, stream: boolean): GatewayError {
  return malformedUpstreamError(PLUGIN, message, stream);
}

const UPSTREAM_TYPES: Record<string, [number, GatewayErrorType]> = {
  rate_limit_error: [429, "rate_limit"],
  overloaded_error: [503, "unavailable"],
  timeout_error: [504, "timeout"],
};

/** An Anthropic `error` object the upstream sent in place of a result. */
export function upstreamError(error: unknown, stream: boolean): GatewayError {
  const obj = scrubbedUpstreamErrorFields(error);
  const kind = obj.type ?? "api_error";
  const [status, type] = UPSTREAM_TYPES[kind] ?? [502, "upstream_error"];
  return new GatewayError({
    status,
    type,
    code: kind,
    message: obj.message || "upstream reported an error",
    source: PLUGIN,
    ...(stream ? { failure: "stream" as const } : {}),
  });
}
