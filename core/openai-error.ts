/**
 * OpenAI's error object, `{message, type, code, param}`, as both OpenAI APIs (Chat Completions and
 * Responses) and their SDKs read it. Here, not in each OpenAI-family format plugin, so the two
 * cannot drift apart: an SDK maps `type` and the status to its error classes.
 */
import type { GatewayError, GatewayErrorType } from "./errors.js";

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

export interface OpenAiErrorObject {
  message: string;
  type: string;
  code: string;
  param: string | null;
}

export function openAiErrorObject(err: GatewayError): OpenAiErrorObject {
  return { message: err.message, type: OPENAI_TYPE_NAMES[err.type], code: err.code, param: err.param ?? null };
}
