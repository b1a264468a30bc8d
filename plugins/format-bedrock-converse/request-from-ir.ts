/**
 * IR -> Bedrock Converse request. The body carries no model and no stream flag: Bedrock puts both
 * in the URL (`/model/{modelId}/converse` or `/converse-stream`), which the provider builds.
 * Converse wants user and assistant turns alternating, so consecutive turns of one role merge;
 * tool results go in the user turn, as in Anthropic's API. A cache marker becomes a `cachePoint`
 * block after the part it marks (Bedrock's prompt caching).
 */
import { GatewayError, type IrCacheControl, type IrDocumentPart, type IrImagePart, type IrMessage, type IrPart, type IrRequest, type IrTextPart, type WireObject } from "../../core/index.js";
import { PLUGIN } from "./errors.js";

const CACHE_POINT = { cachePoint: { type: "default" } };
/** Image formats Converse takes, by the media type's subtype. */
const IMAGE_FORMATS = new Set(["png", "jpeg", "gif", "webp"]);

export function converseRequestFromIr(ir: IrRequest): WireObject {
  const body: WireObject = { messages: turnsFromIr(ir.messages) };
  const system = ir.messages.flatMap((m) => (m.role === "system" ? m.content.filter((p): p is IrTextPart => p.type === "text") : []));
  if (system.length > 0) body.system = system.flatMap((p) => withCachePoint({ text: p.text }, p.cacheControl));
  const inference: WireObject = {};
  if (ir.maxTokens !== undefined) inference.maxTokens = ir.maxTokens;
  if (ir.temperature !== undefined) inference.temperature = ir.temperature;
  if (ir.topP !== undefined) inference.topP = ir.topP;
  if (ir.stop !== undefined && ir.stop.length > 0) inference.stopSequences = ir.stop;
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  const toolConfig = toolConfigOf(ir);
  if (toolConfig !== undefined) body.toolConfig = toolConfig;
  // Model-specific fields Converse has no field for: Anthropic models on Bedrock take them here.
  const additional: WireObject = {};
  if (ir.topK !== undefined) additional.top_k = ir.topK;
  if (ir.reasoning?.budgetTokens !== undefined && ir.reasoning.budgetTokens > 0) additional.thinking = { type: "enabled", budget_tokens: ir.reasoning.budgetTokens };
  if (Object.keys(additional).length > 0) body.additionalModelRequestFields = additional;
  if (ir.metadata !== undefined) body.requestMetadata = ir.metadata;
  return body;
}

function toolConfigOf(ir: IrRequest): WireObject | undefined {
  if (ir.tools === undefined || ir.tools.length === 0) return undefined;
  const tools = ir.tools.flatMap((t) =>
    withCachePoint({ toolSpec: { name: t.name, ...(t.description === undefined ? {} : { description: t.description }), inputSchema: { json: t.parameters } } }, t.cacheControl),
  );
  const config: WireObject = { tools };
  const choice = ir.toolChoice;
  if (choice?.type === "auto") config.toolChoice = { auto: {} };
  else if (choice?.type === "required") config.toolChoice = { any: {} };
  else if (choice?.type === "tool") config.toolChoice = { tool: { name: choice.name } };
  return config;
}

function turnsFromIr(messages: readonly IrMessage[]): WireObject[] {
  const turns: { role: "user" | "assistant"; content: WireObject[] }[] = [];
  for (const msg of messages) {
    if (msg.role === "system") continue;
    const role = msg.role === "assistant" ? "assistant" : "user";
    // Converse reads documents in user turns only (others are listed by converseUnsupportedFields).
    const blocks = msg.content.flatMap((part) => (part.type === "document" && role !== "user" ? [] : blocksOf(part)));
    if (blocks.length === 0) continue;
    const last = turns.at(-1);
    // Tool results answer the calls just made: in Converse they open the user turn that follows.
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  }
  return turns;
}

function blocksOf(part: IrPart): WireObject[] {
  switch (part.type) {
    case "text":
      return withCachePoint({ text: part.text }, part.cacheControl);
    case "image": {
      const image = imageOf(part);
      return image === undefined ? [] : withCachePoint(image, part.cacheControl);
    }
    case "tool_call":
      return [{ toolUse: { toolUseId: part.id, name: part.name, input: argumentsOf(part.arguments) } }];
    case "tool_result": {
      const content = part.content.flatMap((c) => (c.type === "text" ? [{ text: c.text }] : (imageOf(c) ?? [])));
      const result = { toolResult: { toolUseId: part.toolCallId, content: content.length > 0 ? content : [{ text: "" }], status: part.isError ? "error" : "success" } };
      return withCachePoint(result, part.cacheControl);
    }
    case "document": {
      const document = documentOf(part);
      return document === undefined ? [] : withCachePoint(document, part.cacheControl);
    }
    case "audio":
      return []; // Converse takes no audio input: listed by converseUnsupportedFields for the translate policy
    case "thinking":
      if (part.redactedData !== undefined) return [{ reasoningContent: { redactedContent: part.redactedData } }];
      return [{ reasoningContent: { reasoningText: { text: part.text, ...(part.signature === undefined ? {} : { signature: part.signature }) } } }];
  }
}

/** Converse's document formats, by media type. */
const DOCUMENT_FORMATS: Record<string, string> = {
  "application/pdf": "pdf", "text/csv": "csv", "application/msword": "doc", "text/html": "html", "text/plain": "txt", "text/markdown": "md",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "application/vnd.ms-excel": "xls", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
};

/**
 * A document as Converse takes it: bytes of a known format, or plain text. Its `name` is required
 * and may hold only letters, digits, spaces, hyphens, brackets and parentheses.
 */
function documentOf(part: IrDocumentPart): WireObject | undefined {
  const name = (part.title ?? "document").replace(/[^A-Za-z0-9 \-()[\]]/g, " ").replace(/\s+/g, " ").trim().slice(0, 200) || "document";
  if (part.source.kind === "text") return { document: { format: "txt", name, source: { text: part.source.text } } };
  if (part.source.kind !== "base64") return undefined;
  const format = DOCUMENT_FORMATS[part.source.mediaType];
  return format === undefined ? undefined : { document: { format, name, source: { bytes: part.source.data } } };
}

/** A base64 image as Converse takes it; URL images have no place in Converse (only S3 locations). */
function imageOf(part: IrImagePart): WireObject | undefined {
  if (part.source.kind !== "base64") return undefined;
  const format = part.source.mediaType.replace(/^image\//, "").replace("jpg", "jpeg");
  return { image: { format, source: { bytes: part.source.data } } };
}

/** Tool call arguments are JSON text in the IR, an object in Converse. */
function argumentsOf(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError({ status: 400, type: "invalid_request", code: "invalid_tool_arguments", param: "messages.tool_call.arguments", message: "a tool call's arguments are not JSON, which Converse needs as an object", source: PLUGIN });
  }
}

function withCachePoint(block: WireObject, cache: IrCacheControl | undefined): WireObject[] {
  return cache === undefined ? [block] : [block, CACHE_POINT];
}

/** IR fields Converse cannot carry exactly, as dotted IR paths. */
export function converseUnsupportedFields(ir: IrRequest): string[] {
  const lost = new Set<string>();
  if (ir.user !== undefined) lost.add("user");
  if (ir.seed !== undefined) lost.add("seed");
  if (ir.presencePenalty !== undefined) lost.add("presencePenalty");
  if (ir.frequencyPenalty !== undefined) lost.add("frequencyPenalty");
  if (ir.n !== undefined && ir.n !== 1) lost.add("n");
  if (ir.topLogprobs !== undefined) lost.add("topLogprobs");
  if (ir.responseFormat !== undefined && ir.responseFormat.type !== "text") lost.add("responseFormat");
  if (ir.reasoning?.effort !== undefined) lost.add("reasoning.effort");
  if (ir.reasoning?.includeThoughts !== undefined) lost.add("reasoning.includeThoughts");
  if (ir.parallelToolCalls === false) lost.add("parallelToolCalls");
  if (ir.toolChoice?.type === "none") lost.add("toolChoice");
  if (ir.tools?.some((t) => t.strict !== undefined)) lost.add("tools.strict");
  for (const msg of ir.messages) {
    if (msg.name !== undefined) lost.add("messages.name");
    for (const part of msg.content) {
      if (part.type === "image" || part.type === "tool_result") {
        const images = part.type === "image" ? [part] : part.content.filter((c): c is IrImagePart => c.type === "image");
        for (const image of images) {
          if (image.source.kind === "url") lost.add("messages.image.url");
          else if (!IMAGE_FORMATS.has(image.source.mediaType.replace(/^image\//, "").replace("jpg", "jpeg"))) lost.add("messages.image.mediaType");
          if (image.detail !== undefined) lost.add("messages.image.detail");
        }
        if (part.type === "image" && msg.role === "system") lost.add("messages.image");
      } else if (part.type === "document") {
        if (msg.role !== "user") lost.add("messages.document");
        else if (documentOf(part) === undefined) lost.add(part.source.kind === "base64" ? "messages.document.mediaType" : `messages.document.${part.source.kind}`);
      } else if (part.type === "audio") lost.add("messages.audio");
      else if (part.type === "thinking" && msg.role !== "assistant") lost.add("messages.thinking");
    }
  }
  return [...lost];
}
