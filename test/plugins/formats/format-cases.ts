/** Every format translator under test, with what the shared format tests need to know about it. */
import type { FormatTranslator, InboundRequestInfo, IrFinishReason, IrRequest, IrUsage } from "../../../core/index.js";
import anthropic from "../../../plugins/format-anthropic-messages/index.js";
import gemini from "../../../plugins/format-gemini/index.js";
import openAiChat from "../../../plugins/format-openai-chat/index.js";
import responses from "../../../plugins/format-openai-responses/index.js";
import type { ViewOptions } from "./carried-view.js";

export interface FormatCase {
  translator: FormatTranslator;
  /** Folder under test/fixtures. */
  fixtures: string;
  info(request: IrRequest): InboundRequestInfo;
  /** How the format writes an IR finish reason, as read back; "throws" when it reads back as an upstream error. */
  finish(reason: IrFinishReason, hasToolCalls: boolean): IrFinishReason | "throws";
  /** Whether thinking signatures survive a response/stream trip. */
  keepsSignatures: boolean;
  /** Whether the format always reports usage (zeros when the IR had none). */
  alwaysReportsUsage: boolean;
  /** Whether the format reports cache-write tokens (Gemini has no such counter). */
  keepsCacheWrites: boolean;
  /** How requests compare after a trip through the format (see carriedView). */
  view?: ViewOptions;
  /** Undoes what the format fills in by itself (Anthropic's required max_tokens). */
  normalizeRequest?(back: IrRequest, original: IrRequest): void;
}

/** OpenAI wants a file name beside inline bytes: a document sent without a title reads back with the name the gateway gave it. */
function dropGivenFilenames(back: IrRequest): void {
  for (const m of back.messages) for (const p of m.content) if (p.type === "document" && /^document(\.pdf|\.txt)?$/.test(p.title ?? "")) delete p.title;
}

const stopForUnknown = (r: IrFinishReason): IrFinishReason => (r === "error" || r === "other" ? "stop" : r);

export const FORMATS: FormatCase[] = [
  {
    translator: openAiChat.translator,
    fixtures: "openai-chat",
    info: () => ({ path: "/v1/chat/completions", params: {}, query: {} }),
    finish: stopForUnknown,
    keepsSignatures: false,
    alwaysReportsUsage: false,
    keepsCacheWrites: true,
    normalizeRequest: dropGivenFilenames,
  },
  {
    translator: anthropic.translator,
    fixtures: "anthropic-messages",
    info: () => ({ path: "/v1/messages", params: {}, query: {} }),
    finish: stopForUnknown,
    keepsSignatures: true,
    alwaysReportsUsage: true,
    keepsCacheWrites: true,
    normalizeRequest(back, original) {
      if (original.maxTokens === undefined) delete back.maxTokens;
    },
  },
  {
    translator: gemini.translator,
    fixtures: "gemini",
    info: (request) => ({
      path: `/v1beta/models/${request.model}:${request.stream ? "streamGenerateContent" : "generateContent"}`,
      params: { target: `${request.model}:${request.stream ? "streamGenerateContent" : "generateContent"}` },
      query: request.stream ? { alt: "sse" } : {},
    }),
    // Gemini says STOP for both; whether there were calls decides. It has no "error" finish of its own.
    finish: (r, hasToolCalls) => (r === "stop" || r === "tool_calls" ? (hasToolCalls ? "tool_calls" : "stop") : r === "error" ? "other" : r),
    keepsSignatures: true,
    alwaysReportsUsage: false,
    keepsCacheWrites: false,
  },
  {
    translator: responses.translator,
    fixtures: "openai-responses",
    info: () => ({ path: "/v1/responses", params: {}, query: {} }),
    // A reply that ended in error is written as a failed response, which reads back as the error it is.
    finish: (r, hasToolCalls) => (r === "error" ? "throws" : r === "stop" || r === "tool_calls" || r === "other" ? (hasToolCalls ? "tool_calls" : "stop") : r),
    keepsSignatures: true,
    alwaysReportsUsage: false,
    keepsCacheWrites: true,
    view: { mergeAssistantTurns: true },
    normalizeRequest(back, original) {
      dropGivenFilenames(back);
      // Thoughts not asked for and reasoning at the model's default both go unsaid.
      const r = original.reasoning;
      if (r !== undefined && r.includeThoughts === false) {
        if (back.reasoning === undefined && r.effort === undefined && r.budgetTokens === undefined) back.reasoning = {};
        if (back.reasoning !== undefined) back.reasoning.includeThoughts = false;
      }
      if (r !== undefined && back.reasoning === undefined && Object.keys(r).length === 0) back.reasoning = {};
    },
  },
];

/** Usage as the target format can report it, absent counters read as zero. */
export function usageAs(target: FormatCase, usage: IrUsage | undefined): IrUsage | undefined {
  const u = usage ?? (target.alwaysReportsUsage ? { inputTokens: 0, outputTokens: 0 } : undefined);
  if (u === undefined) return undefined;
  return {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    cachedReadTokens: u.cachedReadTokens ?? 0,
    cacheWriteTokens: target.keepsCacheWrites ? (u.cacheWriteTokens ?? 0) : 0,
    reasoningTokens: u.reasoningTokens ?? 0,
  };
}
