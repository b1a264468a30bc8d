/**
 * IR -> Anthropic Messages request. System messages join into the top-level `system`; tool
 * results gather into the user turn that follows the tool calls (tool results first, as Anthropic
 * requires); `max_tokens` is always set because Anthropic requires it.
 */
import type { IrCacheControl, IrDocumentPart, IrImagePart, IrMessage, IrPart, IrReasoning, IrRequest, IrTextPart } from "../../core/index.js";
import { ANTHROPIC_SCHEMA_NAME } from "./request-to-ir.js";
import { documentText } from "../../lib/wire/media.js";
import { isObject, type WireObject } from "../../core/index.js";

/** Anthropic requires max_tokens; this is the default when the client named none. */
export const DEFAULT_MAX_TOKENS = 4096;
/** Anthropic's smallest thinking budget. */
const MIN_BUDGET = 1024;
/** Effort levels as thinking budgets, for backends that only take a budget. */
const EFFORT_BUDGETS = { minimal: 1024, low: 2048, medium: 8192, high: 16384 } as const;

/** Anthropic fields the IR has no place for: carried back from `extra` when the IR came from this format. */
const OWN_EXTRA_FIELDS = new Set(["container", "mcp_servers", "service_tier", "context_management", "cache_control", "inference_geo", "speed", "diagnostics"]);

export function anthropicRequestFromIr(ir: IrRequest): WireObject {
  const thinking = thinkingOf(ir.reasoning, ir.maxTokens);
  const body: WireObject = {
    model: ir.model,
    max_tokens: ir.maxTokens ?? Math.max(DEFAULT_MAX_TOKENS, (thinking?.budget_tokens ?? 0) + DEFAULT_MAX_TOKENS),
    messages: messagesFromIr(ir.messages),
  };
  const system = systemOf(ir.messages);
  if (system !== undefined) body.system = system;
  if (ir.stream) body.stream = true;
  if (ir.temperature !== undefined) body.temperature = ir.temperature;
  if (ir.topP !== undefined) body.top_p = ir.topP;
  if (ir.topK !== undefined) body.top_k = ir.topK;
  if (ir.stop !== undefined && ir.stop.length > 0) body.stop_sequences = ir.stop;
  if (ir.user !== undefined) body.metadata = { user_id: ir.user };
  const extraTools = Array.isArray(ir.extra?.tools) ? ir.extra.tools : [];
  if ((ir.tools !== undefined && ir.tools.length > 0) || extraTools.length > 0) {
    body.tools = [
      ...(ir.tools ?? []).map((t) =>
        withCache(
          {
            name: t.name,
            ...(t.description === undefined ? {} : { description: t.description }),
            input_schema: t.parameters,
            ...(t.strict === undefined ? {} : { strict: t.strict }),
          },
          t.cacheControl,
        ),
      ),
      ...extraTools,
    ];
  }
  const toolChoice = toolChoiceOf(ir);
  if (toolChoice !== undefined) body.tool_choice = toolChoice;
  if (thinking !== undefined) body.thinking = thinking;
  else if (ir.reasoning === undefined && isObject(ir.extra?.thinking)) body.thinking = ir.extra.thinking;
  const output: WireObject = isObject(ir.extra?.output_config) ? { ...ir.extra.output_config } : {};
  if (ir.responseFormat?.type === "json_schema") output.format = { type: "json_schema", schema: ir.responseFormat.schema };
  if (Object.keys(output).length > 0) body.output_config = output;
  for (const [key, value] of Object.entries(ir.extra ?? {})) {
    if (OWN_EXTRA_FIELDS.has(key) && !(key in body)) body[key] = value;
  }
  return body;
}

type ThinkingConfig = { type: "enabled"; budget_tokens: number; display?: string } | { type: "disabled" } | { type: "adaptive"; display?: string };

/** The thinking config for `reasoning`, with the budget kept below max_tokens as Anthropic requires. */
function thinkingOf(reasoning: IrReasoning | undefined, maxTokens: number | undefined): (ThinkingConfig & { budget_tokens?: number }) | undefined {
  if (reasoning === undefined) return undefined;
  if (reasoning.budgetTokens === 0) return { type: "disabled" };
  const display = reasoning.includeThoughts === undefined ? {} : { display: reasoning.includeThoughts ? "summarized" : "omitted" };
  let budget = reasoning.budgetTokens ?? (reasoning.effort === undefined ? undefined : EFFORT_BUDGETS[reasoning.effort]);
  if (budget === undefined) return { type: "adaptive", ...display };
  budget = Math.max(budget, MIN_BUDGET);
  if (maxTokens !== undefined && budget >= maxTokens) {
    if (maxTokens - 1 < MIN_BUDGET) return undefined;
    budget = maxTokens - 1;
  }
  return { type: "enabled", budget_tokens: budget, ...display };
}

function toolChoiceOf(ir: IrRequest): WireObject | undefined {
  const choice = ir.toolChoice;
  const noParallel = ir.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return ir.parallelToolCalls === false && ir.tools !== undefined ? { type: "auto", ...noParallel } : undefined;
  switch (choice.type) {
    case "auto":
      return { type: "auto", ...noParallel };
    case "required":
      return { type: "any", ...noParallel };
    case "none":
      return { type: "none" };
    case "tool":
      return { type: "tool", name: choice.name, ...noParallel };
  }
}

function withCache<T extends WireObject>(block: T, cc: IrCacheControl | undefined): T {
  return cc === undefined ? block : { ...block, cache_control: cc.ttl === undefined ? { type: "ephemeral" } : { type: "ephemeral", ttl: cc.ttl } };
}

function textBlock(part: IrTextPart): WireObject {
  return withCache({ type: "text", text: part.text }, part.cacheControl);
}

function imageBlock(part: IrImagePart): WireObject {
  const source = part.source.kind === "url" ? { type: "url", url: part.source.url } : { type: "base64", media_type: part.source.mediaType, data: part.source.data };
  return withCache({ type: "image", source }, part.cacheControl);
}

/** Anthropic reads PDFs (base64 or URL) and plain text; file ids of another provider's store mean nothing to it. */
function documentBlock(part: IrDocumentPart): WireObject | undefined {
  const text = documentText(part);
  const source = part.source;
  let wire: WireObject | undefined;
  if (text !== undefined) wire = { type: "text", media_type: "text/plain", data: text };
  else if (source.kind === "base64" && source.mediaType === "application/pdf") wire = { type: "base64", media_type: source.mediaType, data: source.data };
  else if (source.kind === "url" && (source.mediaType === undefined || source.mediaType === "application/pdf")) wire = { type: "url", url: source.url };
  if (wire === undefined) return undefined;
  return withCache({ type: "document", source: wire, ...(part.title === undefined ? {} : { title: part.title }) }, part.cacheControl);
}

/** Every system message, wherever it stood, joined into the one top-level system prompt. */
function systemOf(messages: IrMessage[]): string | WireObject[] | undefined {
  const parts = messages.flatMap((m) => (m.role === "system" ? m.content.filter((p): p is IrTextPart => p.type === "text" && p.text.length > 0) : []));
  if (parts.length === 0) return undefined;
  if (parts.length === 1 && parts[0]!.cacheControl === undefined) return parts[0]!.text;
  return parts.map(textBlock);
}

function messagesFromIr(messages: IrMessage[]): WireObject[] {
  const out: Array<{ role: "user" | "assistant"; content: WireObject[]; results: boolean }> = [];
  for (const msg of messages) {
    if (msg.role === "system") continue;
    const results = msg.content.flatMap((p) => (p.type === "tool_result" ? [toolResultBlock(p)] : []));
    const rest = msg.content.filter((p) => p.type !== "tool_result");
    if (results.length > 0) {
      // Tool results open the user turn that answers the calls; later results join it.
      const last = out.at(-1);
      if (last !== undefined && last.role === "user" && last.results) last.content.push(...results);
      else out.push({ role: "user", content: results, results: true });
    }
    if (msg.role === "tool") continue;
    const role = msg.role === "assistant" ? "assistant" : "user";
    const blocks = rest.flatMap((p) => blockOf(p, role));
    if (blocks.length === 0 && results.length > 0) continue;
    const last = out.at(-1);
    if (role === "user" && last !== undefined && last.role === "user" && last.results) {
      last.content.push(...blocks);
      last.results = false;
    } else {
      out.push({ role, content: blocks, results: false });
    }
  }
  return out.map(({ role, content }) => ({ role, content }));
}

function blockOf(part: IrPart, role: "user" | "assistant"): WireObject[] {
  switch (part.type) {
    case "text":
      return part.text.length === 0 ? [] : [textBlock(part)];
    case "image":
      return role === "user" ? [imageBlock(part)] : [];
    case "document": {
      const block = role === "user" ? documentBlock(part) : undefined;
      return block === undefined ? [] : [block];
    }
    case "audio":
      return [];
    case "thinking":
      if (role !== "assistant") return [];
      if (part.redactedData !== undefined) return [{ type: "redacted_thinking", data: part.redactedData }];
      // Anthropic refuses thinking it did not sign.
      return part.signature === undefined ? [] : [{ type: "thinking", thinking: part.text, signature: part.signature }];
    case "tool_call":
      return role === "assistant" ? [{ type: "tool_use", id: part.id, name: part.name, input: parseInput(part.arguments) }] : [];
    case "tool_result":
      return [];
  }
}

/** Anthropic wants the input as an object; text that is not a JSON object is kept under `input`. */
function parseInput(args: string): WireObject {
  try {
    const value: unknown = JSON.parse(args);
    if (isObject(value)) return value;
  } catch {
    // fall through
  }
  return args.trim().length === 0 ? {} : { input: args };
}

function toolResultBlock(part: Extract<IrPart, { type: "tool_result" }>): WireObject {
  const content = part.content.flatMap((p) => (p.type === "text" ? (p.text.length === 0 ? [] : [textBlock(p)]) : [imageBlock(p)]));
  return withCache(
    { type: "tool_result", tool_use_id: part.toolCallId, ...(content.length === 0 ? {} : { content }), ...(part.isError === undefined ? {} : { is_error: part.isError }) },
    part.cacheControl,
  );
}

/** What requestFromIr drops or approximates for `ir`, as dotted IR paths. */
export function anthropicUnsupportedFields(ir: IrRequest): string[] {
  const lost = new Set<string>();
  if (ir.seed !== undefined) lost.add("seed");
  if (ir.presencePenalty !== undefined) lost.add("presencePenalty");
  if (ir.frequencyPenalty !== undefined) lost.add("frequencyPenalty");
  if (ir.n !== undefined && ir.n > 1) lost.add("n");
  if (ir.metadata !== undefined) lost.add("metadata");
  if (ir.topLogprobs !== undefined) lost.add("topLogprobs");
  if (ir.parallelToolCalls === false && (ir.toolChoice?.type === "none" || (ir.toolChoice === undefined && ir.tools === undefined))) lost.add("parallelToolCalls");
  const format = ir.responseFormat;
  if (format?.type === "json_object") lost.add("responseFormat");
  if (format?.type === "json_schema") {
    if (format.name !== ANTHROPIC_SCHEMA_NAME) lost.add("responseFormat.name");
    if (format.strict !== undefined) lost.add("responseFormat.strict");
    if (format.description !== undefined) lost.add("responseFormat.description");
  }
  const r = ir.reasoning;
  if (r !== undefined) {
    if (r.effort !== undefined) lost.add("reasoning.effort");
    if (r.budgetTokens !== undefined && r.budgetTokens > 0) {
      const kept = thinkingOf(r, ir.maxTokens);
      if (kept === undefined || kept.budget_tokens !== r.budgetTokens) lost.add("reasoning.budgetTokens");
    }
  }
  for (const msg of ir.messages) {
    if (msg.name !== undefined) lost.add("messages.name");
    for (const part of msg.content) {
      if (msg.role === "tool" && part.type !== "tool_result") lost.add("messages.tool.content");
      else if (part.type === "image") {
        if (msg.role !== "user" && msg.role !== "tool") lost.add("messages.image");
        if (part.detail !== undefined) lost.add("messages.image.detail");
      } else if (part.type === "document") {
        if (msg.role !== "user") lost.add("messages.document");
        else if (documentBlock(part) === undefined) lost.add(`messages.document.${part.source.kind}`);
      } else if (part.type === "audio") lost.add("messages.audio");
      else if (part.type === "thinking") {
        if (msg.role !== "assistant" || (part.signature === undefined && part.redactedData === undefined)) lost.add("messages.thinking");
      } else if (part.type === "tool_call" && msg.role !== "assistant") lost.add("messages.tool_call");
      else if (part.type === "tool_result" && part.content.some((p) => p.type === "image" && p.detail !== undefined)) lost.add("messages.image.detail");
    }
  }
  return [...lost];
}

/** The client's own body for an Anthropic backend: only the model changes (usage always streams). */
export function anthropicPreparePassthrough(body: WireObject, upstreamModel: string): WireObject | undefined {
  return body.model === upstreamModel ? undefined : { ...body, model: upstreamModel };
}
