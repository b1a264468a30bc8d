/**
 * OpenAI Responses `response` objects <-> IR, with the status, usage and output-item mappings the
 * stream side shares. A `failed` response is an upstream error (its message goes to the client);
 * an IR reply that finished with an error is written as one.
 */
import { openAiLogprobsFromIr, openAiLogprobsToIr } from "../../lib/wire/logprobs.js";
import { randomUUID } from "node:crypto";
import type { IrFinishReason, IrPart, IrRequest, IrResponse, IrUsage } from "../../core/index.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { readReasoningItem } from "./request-to-ir.js";
import { isObject, type WireObject } from "../../core/index.js";

/** A fresh item id with OpenAI's prefix (`msg`, `fc`, `rs`, `resp`). */
export function itemId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, "")}`;
}

export type ResponseStatus = { status: "completed" | "incomplete" | "failed"; incomplete_details: WireObject | null; error: WireObject | null };

export function statusFromIr(reason: IrFinishReason): ResponseStatus {
  switch (reason) {
    case "length":
      return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, error: null };
    case "content_filter":
      return { status: "incomplete", incomplete_details: { reason: "content_filter" }, error: null };
    case "error":
      return { status: "failed", incomplete_details: null, error: { code: "server_error", message: "The model stopped with an error." } };
    default:
      return { status: "completed", incomplete_details: null, error: null };
  }
}

/** Status of a finished response -> IR finish reason; `failed` throws the upstream's error. */
export function finishReasonOf(response: WireObject, hasToolCalls: boolean, stream: boolean): IrFinishReason {
  switch (response.status) {
    case "completed":
      return hasToolCalls ? "tool_calls" : "stop";
    case "incomplete": {
      const reason = isObject(response.incomplete_details) ? response.incomplete_details.reason : undefined;
      return reason === "max_output_tokens" ? "length" : reason === "content_filter" ? "content_filter" : "other";
    }
    case "failed":
      throw upstreamError(response.error, stream);
    default:
      return "other";
  }
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Responses counts cached tokens inside input_tokens and reasoning inside output_tokens, as the IR does. */
export function usageToIr(value: unknown): IrUsage | undefined {
  if (!isObject(value)) return undefined;
  const input = count(value.input_tokens);
  const output = count(value.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const usage: IrUsage = { inputTokens: input ?? 0, outputTokens: output ?? 0 };
  const inDetails = isObject(value.input_tokens_details) ? value.input_tokens_details : {};
  const outDetails = isObject(value.output_tokens_details) ? value.output_tokens_details : {};
  const cached = count(inDetails.cached_tokens);
  if (cached !== undefined) usage.cachedReadTokens = cached;
  const written = count(inDetails.cache_write_tokens);
  if (written !== undefined) usage.cacheWriteTokens = written;
  const reasoning = count(outDetails.reasoning_tokens);
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

export function usageFromIr(usage: IrUsage): WireObject {
  const input: WireObject = { cached_tokens: usage.cachedReadTokens ?? 0 };
  if (usage.cacheWriteTokens !== undefined) input.cache_write_tokens = usage.cacheWriteTokens;
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: input,
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

export function reasoningItem(id: string, text: string, signature: string | undefined): WireObject {
  return { id, type: "reasoning", summary: text.length === 0 ? [] : [{ type: "summary_text", text }], ...(signature === undefined ? {} : { encrypted_content: signature }) };
}

export function outputText(text: string): WireObject {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

export function messageItem(id: string, texts: string[], status: "in_progress" | "completed"): WireObject {
  return { id, type: "message", status, role: "assistant", content: texts.map(outputText) };
}

export function functionCallItem(id: string, callId: string, name: string, args: string, status: "in_progress" | "completed"): WireObject {
  return { id, type: "function_call", status, call_id: callId, name, arguments: args };
}

/** The response object around the output: echoes what the request asked for, as OpenAI does. */
export function responseEnvelope(id: string, model: string, createdAt: number, request: IrRequest): WireObject {
  const format = request.responseFormat;
  return {
    id,
    object: "response",
    created_at: createdAt,
    status: "in_progress",
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: request.maxTokens ?? null,
    model,
    output: [],
    parallel_tool_calls: request.parallelToolCalls ?? true,
    previous_response_id: null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.includeThoughts === true ? "auto" : null },
    store: false,
    temperature: request.temperature ?? 1,
    text: { format: format === undefined || format.type !== "json_schema" ? { type: format?.type ?? "text" } : { type: "json_schema", name: format.name, schema: format.schema, strict: format.strict ?? false } },
    tool_choice: request.toolChoice === undefined ? "auto" : request.toolChoice.type === "tool" ? { type: "function", name: request.toolChoice.name } : request.toolChoice.type,
    tools: (request.tools ?? []).map((t) => ({ type: "function", name: t.name, description: t.description ?? null, parameters: t.parameters, strict: t.strict ?? false })),
    top_p: request.topP ?? 1,
    truncation: "disabled",
    usage: null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/** IR content as output items: thinking -> reasoning, consecutive texts -> one message, tool calls -> function calls. */
export function outputItemsFromIr(content: IrPart[]): WireObject[] {
  const items: WireObject[] = [];
  let texts: string[] = [];
  const flush = () => {
    if (texts.length > 0) items.push(messageItem(itemId("msg"), texts, "completed"));
    texts = [];
  };
  for (const part of content) {
    if (part.type === "text") {
      texts.push(part.text);
      continue;
    }
    flush();
    if (part.type === "thinking" && (part.text.length > 0 || part.signature !== undefined)) items.push(reasoningItem(itemId("rs"), part.text, part.signature));
    else if (part.type === "tool_call") items.push(functionCallItem(itemId("fc"), part.id, part.name, part.arguments, "completed"));
  }
  flush();
  return items;
}

export function responsesResponseFromIr(response: IrResponse, request: IrRequest): WireObject {
  const body = responseEnvelope(response.id, response.model, response.created, request);
  const output = outputItemsFromIr(response.content);
  const text = output.find((item) => item.type === "message")?.content as WireObject[] | undefined;
  if (response.logprobs !== undefined && text?.[0] !== undefined) text[0].logprobs = openAiLogprobsFromIr(response.logprobs);
  return {
    ...body,
    ...statusFromIr(response.finishReason),
    output,
    usage: response.usage === undefined ? null : usageFromIr(response.usage),
  };
}

/** Output items -> IR parts; items other formats have no form for (web searches…) are left out. */
export function outputItemsToIr(output: unknown[], stream: boolean): IrPart[] {
  const content: IrPart[] = [];
  output.forEach((item, i) => {
    if (!isObject(item)) throw malformedUpstream(`output[${i}] is not an object`, stream);
    if (item.type === "message") {
      if (!Array.isArray(item.content)) throw malformedUpstream(`output[${i}].content is not an array`, stream);
      for (const part of item.content) {
        if (!isObject(part)) throw malformedUpstream(`output[${i}].content part is not an object`, stream);
        if (part.type === "output_text" && typeof part.text === "string") content.push({ type: "text", text: part.text });
        else if (part.type === "refusal" && typeof part.refusal === "string") content.push({ type: "text", text: part.refusal });
      }
    } else if (item.type === "function_call") {
      if (typeof item.call_id !== "string" || typeof item.name !== "string") throw malformedUpstream(`output[${i}] function_call without call_id or name`, stream);
      content.push({ type: "tool_call", id: item.call_id, name: item.name, arguments: typeof item.arguments === "string" ? item.arguments : "{}" });
    } else if (item.type === "reasoning") {
      try {
        content.push(readReasoningItem(item, `output[${i}]`));
      } catch {
        throw malformedUpstream(`output[${i}] is not a reasoning item`, stream);
      }
    }
  });
  return content;
}

export function responsesResponseToIr(body: unknown): IrResponse {
  if (!isObject(body)) throw malformedUpstream("body is not a JSON object", false);
  if (body.object !== "response" && body.error != null && !Array.isArray(body.output)) throw upstreamError(body.error, false);
  if (!Array.isArray(body.output)) throw malformedUpstream("no output array", false);
  const content = outputItemsToIr(body.output, false);
  const response: IrResponse = {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" ? body.model : "",
    created: count(body.created_at) ?? Math.floor(Date.now() / 1000),
    content,
    finishReason: finishReasonOf(body, content.some((p) => p.type === "tool_call"), false),
  };
  const usage = usageToIr(body.usage);
  if (usage !== undefined) response.usage = usage;
  const logprobs = body.output.flatMap((item) => (isObject(item) && item.type === "message" && Array.isArray(item.content) ? item.content.flatMap((p) => (isObject(p) ? openAiLogprobsToIr(p.logprobs) : [])) : []));
  if (logprobs.length > 0) response.logprobs = logprobs;
  return response;
}

export function responsesUsageOf(body: unknown): IrUsage | undefined {
  return isObject(body) ? usageToIr(body.usage) : undefined;
}

/**
 * A response's `status` (`completed`, `failed`…), or for an `incomplete` one the reason it gives
 * (`max_output_tokens`, `content_filter`): the status alone would not say why it stopped.
 */
export function responsesFinishReasonOf(response: unknown): string | undefined {
  if (!isObject(response) || typeof response.status !== "string") return undefined;
  const reason = response.status === "incomplete" && isObject(response.incomplete_details) ? response.incomplete_details.reason : undefined;
  return typeof reason === "string" ? reason : response.status;
}
