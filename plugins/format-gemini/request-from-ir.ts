/**
 * IR -> Gemini GenerateContentRequest. The body carries no model and no stream flag: Gemini puts
 * both in the URL (`models/{model}:generateContent` or `:streamGenerateContent?alt=sse`), which
 * the provider builds from the call's model and stream flag.
 */
import type { IrMessage, IrReasoning, IrRequest, IrTextPart, IrToolResultPart } from "../../core/index.js";
import { modelPartsFromIr, userPartOf } from "./parts.js";
import { GEMINI_SCHEMA_NAME } from "./request-to-ir.js";
import { isObject, type WireObject } from "../../core/index.js";

/** Effort levels as thinking budgets: every thinking Gemini model takes a budget, only newer ones a level. */
const EFFORT_BUDGETS = { minimal: 512, low: 2048, medium: 8192, high: 24576 } as const;

/** Gemini fields the IR has no place for: carried back from `extra` when the IR came from this format. */
const OWN_EXTRA_FIELDS = new Set(["safetySettings", "safety_settings", "cachedContent", "cached_content", "labels"]);

export function geminiRequestFromIr(ir: IrRequest): WireObject {
  const body: WireObject = { contents: contentsFromIr(ir.messages) };
  const system = ir.messages.flatMap((m) => (m.role === "system" ? m.content.filter((p): p is IrTextPart => p.type === "text") : []));
  if (system.length > 0) body.systemInstruction = { parts: system.map((p) => ({ text: p.text })) };
  const extraTools = Array.isArray(ir.extra?.tools) ? ir.extra.tools : [];
  if ((ir.tools !== undefined && ir.tools.length > 0) || extraTools.length > 0) {
    const declarations = (ir.tools ?? []).map((t) => ({ name: t.name, ...(t.description === undefined ? {} : { description: t.description }), parametersJsonSchema: t.parameters }));
    body.tools = [...(declarations.length > 0 ? [{ functionDeclarations: declarations }] : []), ...extraTools];
  }
  const choice = ir.toolChoice;
  if (choice !== undefined) {
    const mode = { auto: "AUTO", none: "NONE", required: "ANY", tool: "ANY" }[choice.type];
    body.toolConfig = { functionCallingConfig: choice.type === "tool" ? { mode, allowedFunctionNames: [choice.name] } : { mode } };
  } else if (isObject(ir.extra?.toolConfig)) {
    body.toolConfig = ir.extra.toolConfig;
  }
  const generation = generationConfigOf(ir);
  if (Object.keys(generation).length > 0) body.generationConfig = generation;
  for (const [key, value] of Object.entries(ir.extra ?? {})) {
    if (OWN_EXTRA_FIELDS.has(key) && !(key in body)) body[key] = value;
  }
  return body;
}

function generationConfigOf(ir: IrRequest): WireObject {
  const config: WireObject = isObject(ir.extra?.generationConfig) ? { ...ir.extra.generationConfig } : {};
  if (ir.temperature !== undefined) config.temperature = ir.temperature;
  if (ir.topP !== undefined) config.topP = ir.topP;
  if (ir.topK !== undefined) config.topK = ir.topK;
  if (ir.maxTokens !== undefined) config.maxOutputTokens = ir.maxTokens;
  if (ir.stop !== undefined && ir.stop.length > 0) config.stopSequences = ir.stop;
  if (ir.n !== undefined) config.candidateCount = ir.n;
  if (ir.seed !== undefined) config.seed = ir.seed;
  if (ir.presencePenalty !== undefined) config.presencePenalty = ir.presencePenalty;
  if (ir.frequencyPenalty !== undefined) config.frequencyPenalty = ir.frequencyPenalty;
  const format = ir.responseFormat;
  if (format?.type === "json_object") config.responseMimeType = "application/json";
  else if (format?.type === "json_schema") {
    config.responseMimeType = "application/json";
    config.responseJsonSchema = format.schema;
  }
  const thinking = thinkingConfigOf(ir.reasoning);
  if (thinking !== undefined) config.thinkingConfig = thinking;
  if (ir.topLogprobs !== undefined) {
    config.responseLogprobs = true;
    if (ir.topLogprobs > 0) config.logprobs = ir.topLogprobs;
  }
  return config;
}

function thinkingConfigOf(reasoning: IrReasoning | undefined): WireObject | undefined {
  if (reasoning === undefined) return undefined;
  const budget = reasoning.budgetTokens ?? (reasoning.effort === undefined ? -1 : EFFORT_BUDGETS[reasoning.effort]);
  return { thinkingBudget: budget, ...(reasoning.includeThoughts === undefined ? {} : { includeThoughts: reasoning.includeThoughts }) };
}

/** A tool result as Gemini's response object: `{result}` for text, `{error}` for failures, JSON objects as they are. */
function responseOf(part: IrToolResultPart): WireObject {
  const text = part.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
  if (part.isError === true) return { error: text };
  if (text.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(text);
      // Only canonical JSON goes as an object, so reading it back gives the same text; a lone
      // `result`/`error` key would read back as plain text or an error.
      const ambiguous = isObject(value) && Object.keys(value).length === 1 && ("result" in value || "error" in value);
      if (isObject(value) && !ambiguous && JSON.stringify(value) === text) return value;
    } catch {
      // plain text after all
    }
  }
  return { result: text };
}

function contentsFromIr(messages: IrMessage[]): WireObject[] {
  const out: Array<{ role: "user" | "model"; parts: WireObject[]; results: boolean }> = [];
  const callNames = new Map<string, string>();
  for (const msg of messages) {
    if (msg.role === "system") continue;
    const results = msg.content.flatMap((p) =>
      p.type === "tool_result" ? [{ functionResponse: { id: p.toolCallId, name: p.name ?? callNames.get(p.toolCallId) ?? "tool", response: responseOf(p) } }] : [],
    );
    if (results.length > 0) {
      // Gemini wants the responses to one model turn together in the next user turn.
      const last = out.at(-1);
      if (last !== undefined && last.role === "user" && last.results) last.parts.push(...results);
      else out.push({ role: "user", parts: results, results: true });
    }
    if (msg.role === "tool") continue;
    if (msg.role === "assistant") {
      for (const p of msg.content) if (p.type === "tool_call") callNames.set(p.id, p.name);
      out.push({ role: "model", parts: modelPartsFromIr(msg.content), results: false });
      continue;
    }
    const parts = msg.content.flatMap((p): WireObject[] => {
      const part = userPartOf(p);
      return part === undefined ? [] : [part];
    });
    if (parts.length === 0 && results.length > 0) continue;
    const last = out.at(-1);
    if (last !== undefined && last.role === "user" && last.results) {
      last.parts.push(...parts);
      last.results = false;
    } else {
      out.push({ role: "user", parts, results: false });
    }
  }
  return out.map(({ role, parts }) => ({ role, parts }));
}

/** What requestFromIr drops or approximates for `ir`, as dotted IR paths. */
export function geminiUnsupportedFields(ir: IrRequest): string[] {
  const lost = new Set<string>();
  if (ir.user !== undefined) lost.add("user");
  if (ir.metadata !== undefined) lost.add("metadata");
  if (ir.parallelToolCalls === false) lost.add("parallelToolCalls");
  if (ir.tools?.some((t) => t.strict !== undefined)) lost.add("tools.strict");
  if (ir.tools?.some((t) => t.cacheControl !== undefined)) lost.add("tools.cacheControl");
  const format = ir.responseFormat;
  if (format?.type === "json_schema") {
    if (format.name !== GEMINI_SCHEMA_NAME) lost.add("responseFormat.name");
    if (format.strict !== undefined) lost.add("responseFormat.strict");
    if (format.description !== undefined) lost.add("responseFormat.description");
  }
  if (ir.reasoning?.effort !== undefined) lost.add("reasoning.effort");
  for (const msg of ir.messages) {
    if (msg.name !== undefined) lost.add("messages.name");
    for (const part of msg.content) {
      if ("cacheControl" in part && part.cacheControl !== undefined) lost.add("messages.cacheControl");
      if (msg.role === "tool" && part.type !== "tool_result") lost.add("messages.tool.content");
      else if (part.type === "image") {
        if (msg.role === "system") lost.add("messages.image");
        if (part.detail !== undefined) lost.add("messages.image.detail");
      } else if (part.type === "document") {
        if (msg.role === "system") lost.add("messages.document");
        else if (part.source.kind === "file") lost.add("messages.document.file");
        if (part.title !== undefined) lost.add("messages.document.title");
      } else if (part.type === "audio") {
        if (msg.role === "system") lost.add("messages.audio");
      } else if (part.type === "thinking") {
        if (msg.role !== "assistant" || part.redactedData !== undefined || (part.text.length === 0 && part.signature === undefined)) lost.add("messages.thinking");
      } else if (part.type === "tool_call" && msg.role !== "assistant") lost.add("messages.tool_call");
      else if (part.type === "tool_result") {
        if (part.content.some((p) => p.type === "image")) lost.add("messages.tool_result.image");
        if (part.content.filter((p) => p.type === "text").length > 1) lost.add("messages.tool_result.text");
        if (part.content.some((p) => p.cacheControl !== undefined)) lost.add("messages.cacheControl");
      }
    }
  }
  return [...lost];
}
