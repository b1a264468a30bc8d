/**
 * OpenAI's error object, `{message, type, code, param}`, as both OpenAI APIs (Chat Completions and
 * Responses) and their SDKs read it, both ways. Here, not in each OpenAI-family format plugin, so
 * the two cannot drift apart: an SDK maps `type` and the status to its error classes.
 */
import { GatewayError, type GatewayErrorType } from "../../core/index.js";
import { scrubbedUpstreamErrorFields } from "../upstream/errors.js";

const OPENAI_TYPE_NAMES: Record<GatewayErrorType, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  payload_too_large: "invalid_request_error",
  rate_limit: "rate_limit_error",
  budget_exceeded: "insufficient_quota",
  upstream_error: "api_error",
  timeout: "timeout_error",
  unavailable: "service_unavailable_error",
  internal: "api_error",
};

interface OpenAiErrorObject {
  message: string;
  type: string;
  code: string;
  param: string | null;
}

export function openAiErrorObject(err: GatewayError): OpenAiErrorObject {
  return { message: err.message, type: OPENAI_TYPE_NAMES[err.type], code: err.code, param: err.param ?? null };
}

/**
 * An OpenAI error object an upstream sent in place of a result (a 200 body, a mid-stream
 * `{"error":…}` chunk, a Responses `error` event), as the attempt loop's GatewayError.
 */
export function gatewayErrorFromOpenAi(error: unknown, options: { stream: boolean; source: string }): GatewayError {
  const obj = scrubbedUpstreamErrorFields(error);
  const message = obj.message || "upstream reported an error";
  const kind = `${obj.type ?? ""} ${obj.code ?? ""}`;
  let status = 502;
  let type: GatewayErrorType = "upstream_error";
  if (/rate_limit|insufficient_quota/.test(kind)) [status, type] = [429, "rate_limit"];
  else if (/overloaded|unavailable/.test(kind)) [status, type] = [503, "unavailable"];
  return new GatewayError({
    status,
    type,
    code: obj.code ?? "upstream_error",
    message,
    source: options.source,
    ...(options.stream ? { failure: "stream" as const } : {}),
  });
}
