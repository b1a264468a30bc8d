/**
 * Errors in Google's shape, both ways: GatewayError -> `{"error":{code,message,status}}` for
 * clients, and Google error objects (error bodies, in-stream error chunks) -> GatewayError.
 */
import { GatewayError, type GatewayErrorType, type RenderedError } from "../../core/index.js";
import { scrubbedUpstreamErrorFields, malformedUpstreamError } from "../../lib/upstream/errors.js";

export const PLUGIN = "format-gemini";

const STATUS_NAMES: Record<GatewayErrorType, string> = {
  invalid_request: "INVALID_ARGUMENT",
  authentication: "UNAUTHENTICATED",
  permission: "PERMISSION_DENIED",
  not_found: "NOT_FOUND",
  payload_too_large: "INVALID_ARGUMENT",
  rate_limit: "RESOURCE_EXHAUSTED",
  budget_exceeded: "RESOURCE_EXHAUSTED",
  upstream_error: "INTERNAL",
  timeout: "DEADLINE_EXCEEDED",
  unavailable: "UNAVAILABLE",
  internal: "INTERNAL",
};

export function googleErrorBody(err: GatewayError): { error: { code: number; message: string; status: string } } {
  return { error: { code: err.status, message: err.message, status: STATUS_NAMES[err.type] } };
}

export function renderGeminiError(err: GatewayError): RenderedError {
  return { status: err.status, body: googleErrorBody(err) };
}

/** A body or stream the upstream sent that is not this format. */
export function malformedUpstream(message: string, stream: boolean): GatewayError {
  return malformedUpstreamError(PLUGIN, message, stream);
}

const UPSTREAM_STATUSES: Record<string, [number, GatewayErrorType]> = {
  RESOURCE_EXHAUSTED: [429, "rate_limit"],
  UNAVAILABLE: [503, "unavailable"],
  DEADLINE_EXCEEDED: [504, "timeout"],
};

/** A Google `error` object the upstream sent in place of a result. */
export function upstreamError(error: unknown, stream: boolean): GatewayError {
  const obj = scrubbedUpstreamErrorFields(error);
  const status = obj.status ?? "INTERNAL";
  const [code, type] = UPSTREAM_STATUSES[status] ?? [502, "upstream_error"];
  return new GatewayError({
    status: code,
    type,
    code: status.toLowerCase(),
    message: obj.message || "upstream reported an error",
    source: PLUGIN,
    ...(stream ? { failure: "stream" as const } : {}),
  });
}
