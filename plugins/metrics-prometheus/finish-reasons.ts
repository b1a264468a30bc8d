/**
 * The `reason` label of switchyard_finish_reasons_total: a finish reason as the backend's format
 * writes it, when it is one those formats define; any other text (a compatible server's own, a
 * newer API's) is counted as `unknown`, so no upstream can add series.
 */
const KNOWN_FINISH_REASONS = new Set([
  // OpenAI Chat Completions `finish_reason`
  "stop", "length", "tool_calls", "content_filter", "function_call",
  // Anthropic Messages `stop_reason`, Bedrock Converse `stopReason` (largely the same words)
  "end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal", "model_context_window_exceeded", "guardrail_intervened", "content_filtered",
  // Gemini `finishReason` (and a blocked prompt's `blockReason`)
  "FINISH_REASON_UNSPECIFIED", "STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "LANGUAGE", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
  "MALFORMED_FUNCTION_CALL", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "NO_IMAGE",
  // OpenAI Responses `status`, or an incomplete response's `incomplete_details.reason`
  "completed", "failed", "cancelled", "incomplete", "max_output_tokens",
]);

export const UNKNOWN_FINISH_REASON = "unknown";

export function finishReasonLabel(reason: string): string {
  return KNOWN_FINISH_REASONS.has(reason) ? reason : UNKNOWN_FINISH_REASON;
}
