/**
 * OpenAI Chat Completions response bodies <-> IR, with the usage and finish-reason mappings the
 * stream side shares.
 */
import type { IrFinishReason, IrPart, IrRequest, IrResponse, IrUsage } from "../../core/index.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { openAiLogprobsFromIr, openAiLogprobsToIr } from "../../lib/wire/logprobs.js";
import { isObject, type WireObject } from "../../core/index.js";

export type OpenAiFinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export function finishReasonToIr(reason: unknown): IrFinishReason {
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "other";
  }
}

export function finishReasonFromIr(reason: IrFinishReason): OpenAiFinishReason {
  return reason === "length" || reason === "tool_calls" || reason === "content_filter" ? reason : "stop";
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** OpenAI counts cached tokens inside `prompt_tokens` and reasoning inside `completion_tokens`, as the IR does. */
export function usageToIr(value: unknown): IrUsage | undefined {
  if (!isObject(value)) return undefined;
  const input = count(value.prompt_tokens);
  const output = count(value.completion_tokens);
  if (input === undefined && output === undefined) return undefined;
  const usage: IrUsage = { inputTokens: input ?? 0, outputTokens: output ?? 0 };
  const prompt = isObject(value.prompt_tokens_details) ? value.prompt_tokens_details : {};
  const completion = isObject(value.completion_tokens_details) ? value.completion_tokens_details : {};
  const cached = count(prompt.cached_tokens);
  if (cached !== undefined) usage.cachedReadTokens = cached;
  const cacheWrite = count(prompt.cache_write_tokens);
  if (cacheWrite !== undefined) usage.cacheWriteTokens = cacheWrite;
  const reasoning = count(completion.reasoning_tokens);
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

export function usageFromIr(usage: IrUsage): WireObject {
  const prompt: WireObject = { cached_tokens: usage.cachedReadTokens ?? 0 };
  if (usage.cacheWriteTokens !== undefined) prompt.cache_write_tokens = usage.cacheWriteTokens;
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: prompt,
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}

export function openAiChatResponseToIr(body: unknown): IrResponse {
  if (!isObject(body)) throw malformedUpstream("body is not a JSON object", false);
  if (body.error != null) throw upstreamError(body.error, false);
  const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isObject(choice) || !isObject(choice.message)) throw malformedUpstream("no choices[0].message", false);
  const message = choice.message;
  const content: IrPart[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === "string" && reasoning.length > 0) content.push({ type: "thinking", text: reasoning });
  if (typeof message.content === "string" && message.content.length > 0) content.push({ type: "text", text: message.content });
  if (typeof message.refusal === "string" && message.refusal.length > 0) content.push({ type: "text", text: message.refusal });
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (!isObject(call) || !isObject(call.function)) throw malformedUpstream("tool_calls entry without function", false);
      const { id } = call;
      const { name, arguments: args } = call.function;
      if (typeof id !== "string" || typeof name !== "string") throw malformedUpstream("tool call without id or name", false);
      content.push({ type: "tool_call", id, name, arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}) });
    }
  }
  const response: IrResponse = {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" ? body.model : "",
    created: count(body.created) ?? Math.floor(Date.now() / 1000),
    content,
    finishReason: finishReasonToIr(choice.finish_reason),
  };
  const usage = usageToIr(body.usage);
  if (usage !== undefined) response.usage = usage;
  const logprobs = isObject(choice.logprobs) ? openAiLogprobsToIr(choice.logprobs.content) : [];
  if (logprobs.length > 0) response.logprobs = logprobs;
  return response;
}

export function openAiChatResponseFromIr(response: IrResponse, _request: IrRequest): WireObject {
  let text: string | null = null;
  let reasoning = "";
  const toolCalls: WireObject[] = [];
  for (const part of response.content) {
    if (part.type === "text") text = (text ?? "") + part.text;
    else if (part.type === "thinking") reasoning += part.text;
    else if (part.type === "tool_call") toolCalls.push({ id: part.id, type: "function", function: { name: part.name, arguments: part.arguments } });
  }
  const message: WireObject = { role: "assistant", content: text ?? (toolCalls.length > 0 ? null : ""), refusal: null };
  // Not in OpenAI's schema, but the field DeepSeek and vLLM clients read reasoning from.
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const body: WireObject = {
    id: response.id,
    object: "chat.completion",
    created: response.created,
    model: response.model,
    choices: [{ index: 0, message, logprobs: response.logprobs === undefined ? null : { content: openAiLogprobsFromIr(response.logprobs), refusal: null }, finish_reason: finishReasonFromIr(response.finishReason) }],
  };
  if (response.usage !== undefined) body.usage = usageFromIr(response.usage);
  return body;
}

export function openAiChatUsageOf(body: unknown): IrUsage | undefined {
  return isObject(body) ? usageToIr(body.usage) : undefined;
}

/** The first choice's `finish_reason` (only choice 0 crosses formats). */
export function openAiChatFinishReasonOf(body: unknown): string | undefined {
  const choice = isObject(body) && Array.isArray(body.choices) ? body.choices[0] : undefined;
  return isObject(choice) && typeof choice.finish_reason === "string" ? choice.finish_reason : undefined;
}
