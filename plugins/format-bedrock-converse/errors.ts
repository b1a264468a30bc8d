/**
 * Errors in Bedrock's shape, both ways: GatewayError -> `{"message":…}` (Bedrock's REST error
 * body; the error's kind travels in the `x-amzn-errortype` header, which an answer cannot set
 * here), and Bedrock's stream exceptions (`throttlingException`…) -> GatewayError.
 */
import { GatewayError, type GatewayErrorType, type RenderedError } from "../../core/index.js";
import { scrubbedUpstreamErrorFields, scrubUpstreamText, malformedUpstreamError } from "../../lib/upstream/errors.js";

export const PLUGIN = "format-bedrock-converse";

export function renderBedrockError(err: GatewayError): RenderedError {
  return { status: err.status, body: { message: err.message } };
}

/** A body or stream the upstream sent that is not this format. */
export function malformedUpstream(message: string, stream: boolean): GatewayError {
  return malformedUpstreamError(PLUGIN, message, stream);
}

/** Exceptions a ConverseStream may send in place of its next event (`:message-type: exception`). */
const STREAM_EXCEPTIONS: Record<string, [number, GatewayErrorType]> = {
  throttlingException: [429, "rate_limit"],
  serviceUnavailableException: [503, "unavailable"],
  modelNotReadyException: [503, "unavailable"],
  validationException: [400, "invalid_request"],
  modelTimeoutException: [504, "timeout"],
};

/** The GatewayError for a stream exception event named `exceptionType` with its JSON payload. */
export function streamException(exceptionType: string, payload: unknown): GatewayError {
  const { message } = scrubbedUpstreamErrorFields(payload);
  const [status, type] = STREAM_EXCEPTIONS[exceptionType] ?? [502, "upstream_error"];
  return new GatewayError({
    status, type, code: scrubUpstreamText(exceptionType).replace(/[^A-Za-z0-9_]/g, "") || "upstream_exception",
    message: message || "upstream reported an error", source: PLUGIN, failure: "stream",
  });
}
