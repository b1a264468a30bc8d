/**
 * Anthropic Messages response bodies <-> IR, with the usage and stop-reason mappings the stream
 * side shares. Anthropic's `input_tokens` excludes cache reads and writes; the IR's includes them.
 */
import type { IrFinishReason, IrPart, IrRequest, IrResponse, IrUsage } from "../../core/index.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { isObject, type WireObject } from "../../core/index.js";

export function stopReasonToIr(reason: unknown): IrFinishReason {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "other";
  }
}

export function stopReasonFromIr(reason: IrFinishReason, stopSequence: string | undefined): string {
  switch (reason) {
    case "length":
      return "max_tokens";
    case "tool_calls":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return stopSequence === undefined ? "end_turn" : "stop_sequence";
  }
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Anthropic counters (some possibly null) -> IR usage; undefined when no counter is present. */
export function usageToIr(value: unknown): IrUsage | undefined {
  if (!isObject(value)) return undefined;
  const input = count(value.input_tokens);
  const output = count(value.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const cacheRead = count(value.cache_read_input_tokens);
  const cacheWrite = count(value.cache_creation_input_tokens);
  const usage: IrUsage = { inputTokens: (input ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0), outputTokens: output ?? 0 };
  if (cacheRead !== undefined) usage.cachedReadTokens = cacheRead;
  if (cacheWrite !== undefined) usage.cacheWriteTokens = cacheWrite;
  const details = isObject(value.output_tokens_details) ? value.output_tokens_details : {};
  const thinking = count(details.thinking_tokens);
  if (thinking !== undefined) usage.reasoningTokens = thinking;
  return usage;
}

export function usageFromIr(usage: IrUsage): WireObject {
  const cacheRead = usage.cachedReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const wire: WireObject = {
    input_tokens: Math.max(0, usage.inputTokens - cacheRead - cacheWrite),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    output_tokens: usage.outputTokens,
  };
  if (usage.reasoningTokens !== undefined) wire.output_tokens_details = { thinking_tokens: usage.reasoningTokens };
  return wire;
}

export function anthropicResponseToIr(body: unknown): IrResponse {
  if (!isObject(body)) throw malformedUpstream("body is not a JSON object", false);
  if (body.type === "error") throw upstreamError(body.error, false);
  if (!Array.isArray(body.content)) throw malformedUpstream("no content array", false);
  const content: IrPart[] = [];
  for (const block of body.content) {
    if (!isObject(block)) throw malformedUpstream("content block is not an object", false);
    switch (block.type) {
      case "text":
        if (typeof block.text !== "string") throw malformedUpstream("text block without text", false);
        content.push({ type: "text", text: block.text });
        break;
      case "thinking":
        if (typeof block.thinking !== "string") throw malformedUpstream("thinking block without thinking", false);
        content.push(typeof block.signature === "string" && block.signature.length > 0 ? { type: "thinking", text: block.thinking, signature: block.signature } : { type: "thinking", text: block.thinking });
        break;
      case "redacted_thinking":
        if (typeof block.data === "string") content.push({ type: "thinking", text: "", redactedData: block.data });
        break;
      case "tool_use":
        if (typeof block.id !== "string" || typeof block.name !== "string") throw malformedUpstream("tool_use block without id or name", false);
        content.push({ type: "tool_call", id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
        break;
      default:
        // Server tool blocks (web search results…) ran upstream; other formats have nothing to show them as.
        break;
    }
  }
  const response: IrResponse = {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" ? body.model : "",
    created: Math.floor(Date.now() / 1000),
    content,
    finishReason: stopReasonToIr(body.stop_reason),
  };
  if (typeof body.stop_sequence === "string") response.stopSequence = body.stop_sequence;
  const usage = usageToIr(body.usage);
  if (usage !== undefined) response.usage = usage;
  return response;
}

export function contentBlockOf(part: IrPart): WireObject | undefined {
  switch (part.type) {
    case "text":
      return { type: "text", text: part.text };
    case "thinking":
      return part.redactedData !== undefined ? { type: "redacted_thinking", data: part.redactedData } : { type: "thinking", thinking: part.text, signature: part.signature ?? "" };
    case "tool_call": {
      let input: unknown;
      try {
        input = JSON.parse(part.arguments);
      } catch {
        input = {};
      }
      return { type: "tool_use", id: part.id, name: part.name, input: isObject(input) ? input : {} };
    }
    default:
      return undefined;
  }
}

export function anthropicResponseFromIr(response: IrResponse, _request: IrRequest): WireObject {
  return {
    id: response.id,
    type: "message",
    role: "assistant",
    model: response.model,
    content: response.content.flatMap((p) => contentBlockOf(p) ?? []),
    stop_reason: stopReasonFromIr(response.finishReason, response.stopSequence),
    stop_sequence: response.stopSequence ?? null,
    usage: usageFromIr(response.usage ?? { inputTokens: 0, outputTokens: 0 }),
  };
}

export function anthropicUsageOf(body: unknown): IrUsage | undefined {
  return isObject(body) ? usageToIr(body.usage) : undefined;
}

export function anthropicStopReasonOf(body: unknown): string | undefined {
  return isObject(body) && typeof body.stop_reason === "string" ? body.stop_reason : undefined;
}
