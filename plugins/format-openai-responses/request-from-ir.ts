/**
 * IR -> OpenAI Responses request, stateless: `store: false`, the whole conversation in `input`,
 * reasoning sent back as items carrying their encrypted content (and no ids, which only a stored
 * response could resolve), and encrypted reasoning asked for whenever reasoning is on.
 */
import type { IrImagePart, IrMessage, IrPart, IrReasoning, IrRequest, IrTextPart, IrToolResultPart } from "../../core/index.js";
import { dataUrl, documentBytes, documentFilename, openAiAudioFormatOf } from "../../lib/wire/media.js";
import { isObject, type WireObject } from "../../core/index.js";

/** Responses fields the IR has no place for: carried back from `extra` when the IR came from this format. */
const OWN_EXTRA_FIELDS = new Set(["service_tier", "prompt_cache_key", "prompt_cache_retention", "safety_identifier", "truncation", "max_tool_calls"]);

export function responsesRequestFromIr(ir: IrRequest): WireObject {
  const body: WireObject = { model: ir.model, input: inputFromIr(ir.messages), store: false };
  if (ir.stream) body.stream = true;
  const extraTools = Array.isArray(ir.extra?.tools) ? ir.extra.tools : [];
  if ((ir.tools !== undefined && ir.tools.length > 0) || extraTools.length > 0) {
    body.tools = [
      ...(ir.tools ?? []).map((t) => ({
        type: "function",
        name: t.name,
        ...(t.description === undefined ? {} : { description: t.description }),
        parameters: t.parameters,
        // Responses defaults to strict schemas; other formats default to loose ones.
        strict: t.strict ?? false,
      })),
      ...extraTools,
    ];
  }
  if (ir.toolChoice !== undefined) body.tool_choice = ir.toolChoice.type === "tool" ? { type: "function", name: ir.toolChoice.name } : ir.toolChoice.type;
  else if (ir.extra?.tool_choice !== undefined) body.tool_choice = ir.extra.tool_choice;
  if (ir.parallelToolCalls !== undefined) body.parallel_tool_calls = ir.parallelToolCalls;
  if (ir.temperature !== undefined) body.temperature = ir.temperature;
  if (ir.topP !== undefined) body.top_p = ir.topP;
  if (ir.maxTokens !== undefined) body.max_output_tokens = ir.maxTokens;
  const reasoning = reasoningOf(ir.reasoning, ir.extra?.reasoning);
  if (reasoning !== undefined) {
    body.reasoning = reasoning;
    body.include = ["reasoning.encrypted_content"];
  }
  const extraInclude = Array.isArray(ir.extra?.include) ? ir.extra.include : [];
  if (extraInclude.length > 0) body.include = [...((body.include as unknown[] | undefined) ?? []), ...extraInclude];
  if (ir.topLogprobs !== undefined) {
    body.include = [...((body.include as unknown[] | undefined) ?? []), "message.output_text.logprobs"];
    if (ir.topLogprobs > 0) body.top_logprobs = ir.topLogprobs;
  }
  const text: WireObject = isObject(ir.extra?.text) ? { ...ir.extra.text } : {};
  const format = ir.responseFormat;
  if (format !== undefined) {
    text.format =
      format.type === "json_schema"
        ? {
            type: "json_schema",
            name: format.name,
            schema: format.schema,
            ...(format.strict === undefined ? {} : { strict: format.strict }),
            ...(format.description === undefined ? {} : { description: format.description }),
          }
        : { type: format.type };
  }
  if (Object.keys(text).length > 0) body.text = text;
  if (ir.user !== undefined) body.user = ir.user;
  if (ir.metadata !== undefined) body.metadata = ir.metadata;
  for (const [key, value] of Object.entries(ir.extra ?? {})) {
    if (OWN_EXTRA_FIELDS.has(key) && !(key in body)) body[key] = value;
  }
  return body;
}

function reasoningOf(reasoning: IrReasoning | undefined, extra: unknown): WireObject | undefined {
  if (reasoning === undefined) return undefined;
  const out: WireObject = isObject(extra) ? { ...extra } : {};
  const budget = reasoning.budgetTokens;
  const effort = reasoning.effort ?? (budget === undefined || budget === 0 ? undefined : budget <= 2048 ? "low" : budget <= 8192 ? "medium" : "high");
  if (effort !== undefined) out.effort = effort;
  if (reasoning.includeThoughts === true) out.summary = "auto";
  // Nothing to ask for (reasoning off, or on at the model's default): say nothing, which also
  // keeps models without reasoning from refusing the request.
  return Object.keys(out).length === 0 ? undefined : out;
}

function imageOf(part: IrImagePart): WireObject {
  const url = part.source.kind === "url" ? part.source.url : `data:${part.source.mediaType};base64,${part.source.data}`;
  return { type: "input_image", image_url: url, detail: part.detail ?? "auto" };
}

/** Responses takes any document as inline bytes, a URL or an OpenAI file id (`input_file`), and wav or mp3 audio. */
function userPartOf(p: IrPart): WireObject[] {
  switch (p.type) {
    case "text":
      return [{ type: "input_text", text: p.text }];
    case "image":
      return [imageOf(p)];
    case "document": {
      const source = p.source;
      const named = p.title === undefined ? {} : { filename: p.title };
      if (source.kind === "url") return [{ type: "input_file", file_url: source.url, ...named }];
      if (source.kind === "file") return [{ type: "input_file", file_id: source.fileId, ...named }];
      const bytes = documentBytes(p)!;
      return [{ type: "input_file", file_data: dataUrl(bytes.mediaType, bytes.data), filename: documentFilename(p, bytes.mediaType) }];
    }
    case "audio": {
      const format = openAiAudioFormatOf(p);
      return format === undefined ? [] : [{ type: "input_audio", input_audio: { data: p.data, format } }];
    }
    default:
      return [];
  }
}

function outputOf(part: IrToolResultPart): string | WireObject[] {
  const only = part.content[0];
  if (part.content.length === 0) return "";
  if (part.content.length === 1 && only!.type === "text") return only!.text;
  return part.content.map((p) => (p.type === "text" ? { type: "input_text", text: p.text } : imageOf(p)));
}

function inputFromIr(messages: IrMessage[]): WireObject[] {
  const out: WireObject[] = [];
  for (const msg of messages) {
    // Tool results stand as items of their own wherever they were, ahead of the rest of the message.
    for (const part of msg.content) {
      if (part.type === "tool_result") out.push({ type: "function_call_output", call_id: part.toolCallId, output: outputOf(part) });
    }
    if (msg.role === "tool") continue;
    const rest = msg.content.filter((p) => p.type !== "tool_result");
    if (rest.length === 0 && msg.content.length > 0) continue;
    if (msg.role === "assistant") out.push(...assistantItems(rest));
    else {
      const parts = rest.flatMap((p): WireObject[] => (p.type === "text" ? [{ type: "input_text", text: p.text }] : msg.role === "user" ? userPartOf(p) : []));
      out.push({ role: msg.role, content: parts });
    }
  }
  return out;
}

/** An assistant turn as items in order: reasoning, assistant messages (consecutive texts together), function calls. */
function assistantItems(parts: IrPart[]): WireObject[] {
  const items: WireObject[] = [];
  let texts: IrTextPart[] = [];
  const flush = () => {
    if (texts.length > 0) items.push({ role: "assistant", content: texts.map((t) => ({ type: "output_text", text: t.text })) });
    texts = [];
  };
  for (const part of parts) {
    if (part.type === "text") {
      texts.push(part);
      continue;
    }
    flush();
    if (part.type === "thinking" && part.redactedData === undefined && (part.text.length > 0 || part.signature !== undefined)) {
      items.push({ type: "reasoning", summary: part.text.length === 0 ? [] : [{ type: "summary_text", text: part.text }], ...(part.signature === undefined ? {} : { encrypted_content: part.signature }) });
    } else if (part.type === "tool_call") {
      items.push({ type: "function_call", call_id: part.id, name: part.name, arguments: part.arguments });
    }
  }
  flush();
  return items;
}

/** What requestFromIr drops or approximates for `ir`, as dotted IR paths. */
export function responsesUnsupportedFields(ir: IrRequest): string[] {
  const lost = new Set<string>();
  if (ir.stop !== undefined && ir.stop.length > 0) lost.add("stop");
  if (ir.seed !== undefined) lost.add("seed");
  if (ir.topK !== undefined) lost.add("topK");
  if (ir.presencePenalty !== undefined) lost.add("presencePenalty");
  if (ir.frequencyPenalty !== undefined) lost.add("frequencyPenalty");
  if (ir.n !== undefined && ir.n > 1) lost.add("n");
  if (ir.reasoning?.budgetTokens !== undefined) lost.add("reasoning.budgetTokens");
  if (ir.tools?.some((t) => t.cacheControl !== undefined)) lost.add("tools.cacheControl");
  for (const msg of ir.messages) {
    if (msg.name !== undefined) lost.add("messages.name");
    for (const part of msg.content) {
      if ("cacheControl" in part && part.cacheControl !== undefined) lost.add("messages.cacheControl");
      if (msg.role === "tool" && part.type !== "tool_result") lost.add("messages.tool.content");
      else if (part.type === "image" && msg.role !== "user") lost.add("messages.image");
      else if (part.type === "document" && msg.role !== "user") lost.add("messages.document");
      else if (part.type === "audio" && (msg.role !== "user" || openAiAudioFormatOf(part) === undefined)) lost.add("messages.audio");
      else if (part.type === "thinking" && (msg.role !== "assistant" || part.redactedData !== undefined)) lost.add("messages.thinking");
      else if (part.type === "tool_call" && msg.role !== "assistant") lost.add("messages.tool_call");
      else if (part.type === "tool_result") {
        if (part.isError !== undefined) lost.add("messages.tool_result.isError");
        if (part.content.some((p) => p.cacheControl !== undefined)) lost.add("messages.cacheControl");
      }
    }
  }
  return [...lost];
}

/** The client's own body for a Responses backend: only the model changes (usage comes with response.completed). */
export function responsesPreparePassthrough(body: WireObject, upstreamModel: string): WireObject | undefined {
  return body.model === upstreamModel ? undefined : { ...body, model: upstreamModel };
}
