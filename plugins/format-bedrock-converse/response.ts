/**
 * Bedrock Converse response -> IR. Converse counts cache reads and writes apart from `inputTokens`;
 * the IR's input counts all input, so they are added back. A Converse reply names no id and no
 * model: the id is made here, the model is the client's (the encoders fall back to it).
 */
import { randomUUID } from "node:crypto";
import { isObject, type IrFinishReason, type IrPart, type IrResponse, type IrUsage, type WireObject } from "../../core/index.js";
import { malformedUpstream } from "./errors.js";

const STOP_REASONS: Record<string, IrFinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  guardrail_intervened: "content_filter",
  content_filtered: "content_filter",
};

export function stopReasonToIr(reason: unknown): IrFinishReason {
  return typeof reason === "string" ? (STOP_REASONS[reason] ?? "other") : "other";
}

export function converseUsageToIr(usage: unknown): IrUsage | undefined {
  if (!isObject(usage)) return undefined;
  const count = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
  const cachedRead = count(usage.cacheReadInputTokens);
  const cacheWrite = count(usage.cacheWriteInputTokens);
  const out: IrUsage = { inputTokens: count(usage.inputTokens) + cachedRead + cacheWrite, outputTokens: count(usage.outputTokens) };
  if (cachedRead > 0) out.cachedReadTokens = cachedRead;
  if (cacheWrite > 0) out.cacheWriteTokens = cacheWrite;
  return out;
}

export function converseResponseToIr(body: unknown): IrResponse {
  if (!isObject(body) || !isObject(body.output) || !isObject(body.output.message) || !Array.isArray(body.output.message.content)) {
    throw malformedUpstream("no output.message.content", false);
  }
  const content: IrPart[] = [];
  for (const block of body.output.message.content) {
    if (!isObject(block)) throw malformedUpstream("a content block is not an object", false);
    const part = partOf(block);
    if (part !== undefined) content.push(part);
  }
  const response: IrResponse = { id: `bedrock-${randomUUID()}`, model: "", created: Math.floor(Date.now() / 1000), content, finishReason: stopReasonToIr(body.stopReason) };
  const usage = converseUsageToIr(body.usage);
  if (usage !== undefined) response.usage = usage;
  return response;
}

function partOf(block: WireObject): IrPart | undefined {
  if (typeof block.text === "string") return { type: "text", text: block.text };
  if (isObject(block.toolUse)) {
    const use = block.toolUse;
    if (typeof use.toolUseId !== "string" || typeof use.name !== "string") throw malformedUpstream("toolUse without toolUseId or name", false);
    return { type: "tool_call", id: use.toolUseId, name: use.name, arguments: JSON.stringify(use.input ?? {}) };
  }
  if (isObject(block.reasoningContent)) {
    const reasoning = block.reasoningContent;
    if (typeof reasoning.redactedContent === "string") return { type: "thinking", text: "", redactedData: reasoning.redactedContent };
    if (isObject(reasoning.reasoningText) && typeof reasoning.reasoningText.text === "string") {
      const signature = reasoning.reasoningText.signature;
      return { type: "thinking", text: reasoning.reasoningText.text, ...(typeof signature === "string" ? { signature } : {}) };
    }
  }
  // Guard content, citations and block kinds newer than this translator carry nothing the IR holds.
  return undefined;
}

export function converseUsageOf(body: unknown): IrUsage | undefined {
  return isObject(body) ? converseUsageToIr(body.usage) : undefined;
}

export function converseStopReasonOf(body: unknown): string | undefined {
  return isObject(body) && typeof body.stopReason === "string" ? body.stopReason : undefined;
}
