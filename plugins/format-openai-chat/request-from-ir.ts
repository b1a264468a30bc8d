/**
 * IR -> OpenAI Chat Completions request, for OpenAI and the many servers that speak its dialect
 * (vLLM, Ollama, llama.cpp…): fields stay within what those servers share, so `max_tokens` unless
 * reasoning asks for `max_completion_tokens`, and nothing vendor-specific such as `top_k`.
 */
import type { IrImagePart, IrMessage, IrPart, IrReasoning, IrRequest, IrTextPart } from "../../core/index.js";
import { isObject, type WireObject } from "../../core/index.js";
import { dataUrl, documentFilename, documentText, openAiAudioFormatOf } from "../../lib/wire/media.js";

/** OpenAI fields the IR has no place for: carried back from `extra` when the IR came from this format. */
const OWN_EXTRA_FIELDS = new Set([
  "logit_bias",
  "service_tier",
  "store",
  "prediction",
  "modalities",
  "audio",
  "web_search_options",
  "verbosity",
  "prompt_cache_key",
  "prompt_cache_retention",
  "safety_identifier",
  "reasoning_effort",
]);

export function openAiChatRequestFromIr(ir: IrRequest): WireObject {
  const body: WireObject = { model: ir.model, messages: messagesFromIr(ir.messages) };
  if (ir.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  const extraTools = Array.isArray(ir.extra?.tools) ? ir.extra.tools : [];
  if ((ir.tools !== undefined && ir.tools.length > 0) || extraTools.length > 0) {
    body.tools = [
      ...(ir.tools ?? []).map((t) => ({
        type: "function",
        function: {
          name: t.name,
          ...(t.description === undefined ? {} : { description: t.description }),
          parameters: t.parameters,
          ...(t.strict === undefined ? {} : { strict: t.strict }),
        },
      })),
      ...extraTools,
    ];
  }
  if (ir.toolChoice !== undefined) {
    body.tool_choice = ir.toolChoice.type === "tool" ? { type: "function", function: { name: ir.toolChoice.name } } : ir.toolChoice.type;
  } else if (ir.extra?.tool_choice !== undefined) {
    body.tool_choice = ir.extra.tool_choice;
  }
  if (ir.parallelToolCalls !== undefined) body.parallel_tool_calls = ir.parallelToolCalls;
  if (ir.temperature !== undefined) body.temperature = ir.temperature;
  if (ir.topP !== undefined) body.top_p = ir.topP;
  const effort = effortOf(ir.reasoning);
  if (ir.maxTokens !== undefined) body[effort === undefined ? "max_tokens" : "max_completion_tokens"] = ir.maxTokens;
  if (effort !== undefined) body.reasoning_effort = effort;
  if (ir.stop !== undefined && ir.stop.length > 0) body.stop = ir.stop;
  if (ir.seed !== undefined) body.seed = ir.seed;
  if (ir.presencePenalty !== undefined) body.presence_penalty = ir.presencePenalty;
  if (ir.frequencyPenalty !== undefined) body.frequency_penalty = ir.frequencyPenalty;
  if (ir.n !== undefined) body.n = ir.n;
  if (ir.responseFormat !== undefined) body.response_format = responseFormatFromIr(ir.responseFormat);
  if (ir.topLogprobs !== undefined) {
    body.logprobs = true;
    if (ir.topLogprobs > 0) body.top_logprobs = ir.topLogprobs;
  }
  if (ir.user !== undefined) body.user = ir.user;
  if (ir.metadata !== undefined) body.metadata = ir.metadata;
  for (const [key, value] of Object.entries(ir.extra ?? {})) {
    if (OWN_EXTRA_FIELDS.has(key) && !(key in body)) body[key] = value;
  }
  return body;
}

/** Thinking budgets become the nearest effort level; a zero budget (no thinking) has no portable form. */
function effortOf(reasoning: IrReasoning | undefined): string | undefined {
  if (reasoning === undefined) return undefined;
  if (reasoning.effort !== undefined) return reasoning.effort;
  const budget = reasoning.budgetTokens;
  if (budget === undefined || budget === 0) return undefined;
  return budget <= 2048 ? "low" : budget <= 8192 ? "medium" : "high";
}

function responseFormatFromIr(format: NonNullable<IrRequest["responseFormat"]>): WireObject {
  if (format.type !== "json_schema") return { type: format.type };
  const spec: WireObject = { name: format.name, schema: format.schema };
  if (format.strict !== undefined) spec.strict = format.strict;
  if (format.description !== undefined) spec.description = format.description;
  return { type: "json_schema", json_schema: spec };
}

function imageUrlOf(part: IrImagePart): string {
  return part.source.kind === "url" ? part.source.url : `data:${part.source.mediaType};base64,${part.source.data}`;
}

/** One text part stays a plain string: the form every compatible server understands. */
function textContent(parts: IrTextPart[]): string | WireObject[] {
  if (parts.length === 1) return parts[0]!.text;
  if (parts.length === 0) return "";
  return parts.map((p) => ({ type: "text", text: p.text }));
}

function messagesFromIr(messages: IrMessage[]): WireObject[] {
  const out: WireObject[] = [];
  for (const msg of messages) {
    // Tool results become tool messages wherever they stood, ahead of the rest of their message
    // (Anthropic-style user turns open with their tool results).
    for (const part of msg.content) {
      if (part.type !== "tool_result") continue;
      out.push({ role: "tool", tool_call_id: part.toolCallId, content: textContent(part.content.filter((p): p is IrTextPart => p.type === "text")) });
    }
    if (msg.role === "tool") continue;
    const rest = msg.content.filter((p) => p.type !== "tool_result");
    if (rest.length === 0 && msg.content.length > 0) continue;
    const named = (m: WireObject): WireObject => (msg.name === undefined ? m : { ...m, name: msg.name });
    if (msg.role === "system") out.push(named({ role: "system", content: textContent(textParts(rest)) }));
    else if (msg.role === "user") out.push(named({ role: "user", content: userContent(rest) }));
    else out.push(named(assistantMessage(rest)));
  }
  return out;
}

function textParts(parts: IrPart[]): IrTextPart[] {
  return parts.filter((p): p is IrTextPart => p.type === "text");
}

function userContent(parts: IrPart[]): string | WireObject[] {
  const carried = parts.flatMap((p) => userPartOf(p));
  if (carried.every((p) => p.type === "text")) return textContent(carried.map((p) => ({ type: "text", text: p.text as string })));
  return carried;
}

/**
 * A user part as chat content parts. Chat takes documents only as inline PDF bytes or an uploaded
 * file's id (`file`), and audio only as wav or mp3; a plain-text document travels as text.
 */
function userPartOf(p: IrPart): WireObject[] {
  switch (p.type) {
    case "text":
      return [{ type: "text", text: p.text }];
    case "image":
      return [{ type: "image_url", image_url: { url: imageUrlOf(p), ...(p.detail === undefined ? {} : { detail: p.detail }) } }];
    case "document": {
      const text = documentText(p);
      if (text !== undefined) return [{ type: "text", text }];
      if (p.source.kind === "base64") {
        return [{ type: "file", file: { file_data: dataUrl(p.source.mediaType, p.source.data), filename: documentFilename(p, p.source.mediaType) } }];
      }
      // File ids are carried between the OpenAI APIs, which share one file store.
      if (p.source.kind === "file") return [{ type: "file", file: { file_id: p.source.fileId } }];
      return [];
    }
    case "audio": {
      const format = openAiAudioFormatOf(p);
      return format === undefined ? [] : [{ type: "input_audio", input_audio: { data: p.data, format } }];
    }
    default:
      return [];
  }
}

function assistantMessage(parts: IrPart[]): WireObject {
  const texts = textParts(parts);
  const calls = parts.flatMap((p) => (p.type === "tool_call" ? [{ id: p.id, type: "function", function: { name: p.name, arguments: p.arguments } }] : []));
  const message: WireObject = { role: "assistant", content: texts.length === 0 && calls.length > 0 ? null : textContent(texts) };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

/** What requestFromIr drops or approximates for `ir`, as dotted IR paths. */
export function openAiChatUnsupportedFields(ir: IrRequest): string[] {
  const lost = new Set<string>();
  if (ir.topK !== undefined) lost.add("topK");
  const r = ir.reasoning;
  if (r !== undefined) {
    if (r.budgetTokens !== undefined) lost.add("reasoning.budgetTokens");
    if (r.includeThoughts !== undefined) lost.add("reasoning.includeThoughts");
  }
  if (ir.tools?.some((t) => t.cacheControl !== undefined)) lost.add("tools.cacheControl");
  for (const msg of ir.messages) {
    for (const part of msg.content) {
      if (msg.role === "tool" && part.type !== "tool_result") lost.add("messages.tool.content");
      else if (part.type === "thinking") lost.add("messages.thinking");
      else if (part.type === "document") {
        if (part.cacheControl !== undefined) lost.add("messages.cacheControl");
        if (msg.role !== "user") lost.add("messages.document");
        else if (part.source.kind === "url") lost.add("messages.document.url");
        // Chat reads documents only as PDF bytes or file ids: plain text goes as a text part.
        else if (documentText(part) !== undefined) lost.add("messages.document.text");
      } else if (part.type === "audio") {
        if (msg.role !== "user" || openAiAudioFormatOf(part) === undefined) lost.add("messages.audio");
      }
      else if (part.type === "tool_call" && msg.role !== "assistant") lost.add("messages.tool_call");
      else if (part.type === "image") {
        if (msg.role !== "user") lost.add("messages.image");
        else if (part.cacheControl !== undefined) lost.add("messages.cacheControl");
      } else if (part.type === "text") {
        if (part.cacheControl !== undefined) lost.add("messages.cacheControl");
      } else if (part.type === "tool_result") {
        if (part.isError !== undefined) lost.add("messages.tool_result.isError");
        if (part.cacheControl !== undefined) lost.add("messages.cacheControl");
        for (const inner of part.content) {
          if (inner.type === "image") lost.add("messages.tool_result.image");
          else if (inner.cacheControl !== undefined) lost.add("messages.cacheControl");
        }
      }
    }
    if (msg.name !== undefined && msg.role === "tool") lost.add("messages.name");
  }
  return [...lost];
}

/** The client's own body for an OpenAI-compatible backend: renamed model, usage asked for on streams. */
export function openAiChatPreparePassthrough(body: WireObject, upstreamModel: string, stream: boolean): WireObject | undefined {
  const reportsUsage = !stream || (isObject(body.stream_options) && body.stream_options.include_usage === true);
  if (body.model === upstreamModel && reportsUsage) return undefined;
  const out: WireObject = { ...body, model: upstreamModel };
  if (stream) out.stream_options = { ...(isObject(body.stream_options) ? body.stream_options : {}), include_usage: true };
  return out;
}
