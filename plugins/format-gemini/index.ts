/**
 * The Gemini API format (`gemini`): clients on `/v1beta/models/:target` where target is
 * `{model}:generateContent` or `{model}:streamGenerateContent` (with `?alt=sse`), and Gemini
 * backends. The model and the stream flag live in the path, not the body.
 */
import { definePlugin, type FormatTranslator, type ModelInfo } from "../../core/index.js";
import { replyFactsFromSkeleton } from "../../lib/wire/reply-skeleton.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { PLUGIN, renderGeminiError } from "./errors.js";
import { geminiRequestFromIr, geminiUnsupportedFields } from "./request-from-ir.js";
import { geminiRequestToIr, peekGemini } from "./request-to-ir.js";
import { geminiResponseFromIr, geminiResponseToIr, geminiFinishReasonOf, geminiUsageOf } from "./response.js";
import { GeminiStreamDecoder, GeminiUsageObserver } from "./stream-decoder.js";
import { GeminiStreamEncoder } from "./stream-encoder.js";

export const geminiTranslator: FormatTranslator = {
  format: "gemini",
  peek: (_body, info) => peekGemini(info),
  requestToIr: (body, info) => geminiRequestToIr(body, info),
  responseFromIr: (response, request) => geminiResponseFromIr(response, request),
  createStreamEncoder: (request, write) => new GeminiStreamEncoder(request, write),
  renderTokenCount: (count) => ({ totalTokens: count.inputTokens }),
  renderError: (err) => renderGeminiError(err),
  renderModels: (models: ModelInfo[]) => ({
    models: models.map((m) => ({ name: `models/${m.id}`, displayName: m.id, supportedGenerationMethods: ["generateContent", "streamGenerateContent"] })),
  }),
  requestFromIr: (request) => geminiRequestFromIr(request),
  unsupportedFields: (request) => geminiUnsupportedFields(request),
  responseToIr: (body) => geminiResponseToIr(body),
  createStreamDecoder: (emit) => new GeminiStreamDecoder(emit),
  // The model travels in the URL: the client's body goes as it came.
  preparePassthrough: () => undefined,
  usageOf: (body) => geminiUsageOf(body),
  finishReasonOf: (body) => geminiFinishReasonOf(body),
  replyFacts: (raw) => replyFactsFromSkeleton(raw, geminiUsageOf, geminiFinishReasonOf),
  createStreamObserver: () => new GeminiUsageObserver(),
};

export default definePlugin({
  kind: "format",
  name: PLUGIN,
  format: "gemini",
  description: "Gemini API: generateContent and streamGenerateContent, to and from the IR",
  configSchema,
  translator: geminiTranslator,
});
