/** Every format translator under test, with what the shared format tests need to know about it. */
import type { FormatTranslator, InboundRequestInfo, IrFinishReason, IrRequest } from "../../../core/index.js";
import anthropic from "../../../plugins/format-anthropic-messages/index.js";
import openAiChat from "../../../plugins/format-openai-chat/index.js";

export interface FormatCase {
  translator: FormatTranslator;
  /** Folder under test/fixtures. */
  fixtures: string;
  info(request: IrRequest): InboundRequestInfo;
  /** How the format writes an IR finish reason, as read back. */
  finish(reason: IrFinishReason, hasToolCalls: boolean): IrFinishReason;
  /** Whether thinking signatures survive a response/stream trip. */
  keepsSignatures: boolean;
  /** Whether the format always reports usage (zeros when the IR had none). */
  alwaysReportsUsage: boolean;
  /** Undoes what the format fills in by itself (Anthropic's required max_tokens). */
  normalizeRequest?(back: IrRequest, original: IrRequest): void;
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
  },
  {
    translator: anthropic.translator,
    fixtures: "anthropic-messages",
    info: () => ({ path: "/v1/messages", params: {}, query: {} }),
    finish: stopForUnknown,
    keepsSignatures: true,
    alwaysReportsUsage: true,
    normalizeRequest(back, original) {
      if (original.maxTokens === undefined) delete back.maxTokens;
    },
  },
];
