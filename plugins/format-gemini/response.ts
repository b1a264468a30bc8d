/**
 * Gemini GenerateContentResponse bodies <-> IR, with the usage and finish-reason mappings the
 * stream side shares. Gemini counts thoughts apart from candidates (`thoughtsTokenCount`); the IR's
 * output includes them.
 */
import { geminiLogprobsFromIr, geminiLogprobsToIr } from "../../lib/wire/logprobs.js";
import type { IrFinishReason, IrPart, IrRequest, IrResponse, IrUsage } from "../../core/index.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { modelPartToIr, modelPartsFromIr } from "./parts.js";
import { isObject, type WireObject } from "../../core/index.js";

const FILTERED = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "LANGUAGE"]);

/** Gemini says STOP even when it stopped to call functions; the calls decide. */
export function finishReasonToIr(reason: unknown, hasToolCalls: boolean): IrFinishReason {
  if (reason === "STOP") return hasToolCalls ? "tool_calls" : "stop";
  if (reason === "MAX_TOKENS") return "length";
  if (typeof reason === "string" && FILTERED.has(reason)) return "content_filter";
  if (reason === "MALFORMED_FUNCTION_CALL" || reason === "UNEXPECTED_TOOL_CALL") return "error";
  return "other";
}

export function finishReasonFromIr(reason: IrFinishReason): string {
  switch (reason) {
    case "stop":
    case "tool_calls":
      return "STOP";
    case "length":
      return "MAX_TOKENS";
    case "content_filter":
      return "SAFETY";
    default:
      return "OTHER";
  }
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function usageToIr(value: unknown): IrUsage | undefined {
  if (!isObject(value)) return undefined;
  const prompt = count(value.promptTokenCount);
  const candidates = count(value.candidatesTokenCount);
  const thoughts = count(value.thoughtsTokenCount);
  if (prompt === undefined && candidates === undefined && thoughts === undefined) return undefined;
  const usage: IrUsage = {
    // Tool-use prompt tokens (search results fed back in) are input the client pays for too.
    inputTokens: (prompt ?? 0) + (count(value.toolUsePromptTokenCount) ?? 0),
    outputTokens: (candidates ?? 0) + (thoughts ?? 0),
  };
  const cached = count(value.cachedContentTokenCount);
  if (cached !== undefined) usage.cachedReadTokens = cached;
  if (thoughts !== undefined) usage.reasoningTokens = thoughts;
  return usage;
}

export function usageFromIr(usage: IrUsage): WireObject {
  const thoughts = usage.reasoningTokens ?? 0;
  const wire: WireObject = {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: Math.max(0, usage.outputTokens - thoughts),
    totalTokenCount: usage.inputTokens + usage.outputTokens,
  };
  if (usage.cachedReadTokens !== undefined) wire.cachedContentTokenCount = usage.cachedReadTokens;
  if (usage.reasoningTokens !== undefined) wire.thoughtsTokenCount = usage.reasoningTokens;
  return wire;
}

export function geminiResponseToIr(body: unknown): IrResponse {
  if (!isObject(body)) throw malformedUpstream("body is not a JSON object", false);
  if (body.error != null) throw upstreamError(body.error, false);
  const candidates = body.candidates;
  if (candidates !== undefined && !Array.isArray(candidates)) throw malformedUpstream("candidates is not an array", false);
  const candidate: unknown = candidates?.[0];
  const content: IrPart[] = [];
  let finishReason: IrFinishReason;
  if (candidate === undefined) {
    // No candidate at all: the prompt itself was blocked (promptFeedback.blockReason).
    if (!isObject(body.promptFeedback) && !isObject(body.usageMetadata)) throw malformedUpstream("no candidates", false);
    finishReason = "content_filter";
  } else {
    if (!isObject(candidate)) throw malformedUpstream("candidate is not an object", false);
    const parts = isObject(candidate.content) ? candidate.content.parts : undefined;
    if (parts !== undefined && !Array.isArray(parts)) throw malformedUpstream("content.parts is not an array", false);
    let calls = 0;
    (parts ?? []).forEach((p, i) => content.push(...modelPartToIr(p, `candidates[0].content.parts[${i}]`, () => `call_${calls++}`, (param, message) => malformedUpstream(`${param}: ${message}`, false))));
    finishReason = finishReasonToIr(candidate.finishReason, content.some((p) => p.type === "tool_call"));
  }
  const response: IrResponse = {
    id: typeof body.responseId === "string" ? body.responseId : "",
    model: typeof body.modelVersion === "string" ? body.modelVersion : "",
    created: Math.floor(Date.now() / 1000),
    content,
    finishReason,
  };
  const usage = usageToIr(body.usageMetadata);
  if (usage !== undefined) response.usage = usage;
  const logprobs = isObject(candidate) ? geminiLogprobsToIr(candidate.logprobsResult) : [];
  if (logprobs.length > 0) response.logprobs = logprobs;
  return response;
}

export function geminiResponseFromIr(response: IrResponse, _request: IrRequest): WireObject {
  const body: WireObject = {
    candidates: [
      {
        content: { role: "model", parts: modelPartsFromIr(response.content) },
        finishReason: finishReasonFromIr(response.finishReason),
        index: 0,
        ...(response.logprobs === undefined ? {} : { logprobsResult: geminiLogprobsFromIr(response.logprobs) }),
      },
    ],
    modelVersion: response.model,
    responseId: response.id,
  };
  if (response.usage !== undefined) body.usageMetadata = usageFromIr(response.usage);
  return body;
}

export function geminiUsageOf(body: unknown): IrUsage | undefined {
  return isObject(body) ? usageToIr(body.usageMetadata) : undefined;
}

/** The first candidate's `finishReason`; with no candidate, the prompt's `blockReason` (the prompt itself was blocked). */
export function geminiFinishReasonOf(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const candidate: unknown = Array.isArray(body.candidates) ? body.candidates[0] : undefined;
  if (isObject(candidate)) return typeof candidate.finishReason === "string" ? candidate.finishReason : undefined;
  return isObject(body.promptFeedback) && typeof body.promptFeedback.blockReason === "string" ? body.promptFeedback.blockReason : undefined;
}
