/**
 * The OpenAI Chat Completions format (`openai-chat`): clients on POST /v1/chat/completions and
 * GET /v1/models, and every backend that speaks the dialect (OpenAI, vLLM, Ollama, llama.cpp…).
 */
import { definePlugin, type FormatTranslator, type ModelInfo } from "../../core/index.js";
import { replyFactsFromSkeleton } from "../../lib/wire/reply-skeleton.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { PLUGIN, renderOpenAiChatError } from "./errors.js";
import { openAiChatPreparePassthrough, openAiChatRequestFromIr, openAiChatUnsupportedFields } from "./request-from-ir.js";
import { openAiChatRequestToIr, peekOpenAiChat } from "./request-to-ir.js";
import { openAiChatFinishReasonOf, openAiChatResponseFromIr, openAiChatResponseToIr, openAiChatUsageOf } from "./response.js";
import { OpenAiChatStreamDecoder, OpenAiChatUsageObserver } from "./stream-decoder.js";
import { OpenAiChatStreamEncoder } from "./stream-encoder.js";

export const openAiChatTranslator: FormatTranslator = {
  format: "openai-chat",
  peek: (body) => peekOpenAiChat(body),
  requestToIr: (body) => openAiChatRequestToIr(body),
  responseFromIr: (response, request) => openAiChatResponseFromIr(response, request),
  createStreamEncoder: (request, write) => new OpenAiChatStreamEncoder(request, write),
  renderError: (err) => renderOpenAiChatError(err),
  renderModels: (models: ModelInfo[]) => ({
    object: "list",
    data: models.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.ownedBy })),
  }),
  requestFromIr: (request) => openAiChatRequestFromIr(request),
  unsupportedFields: (request) => openAiChatUnsupportedFields(request),
  responseToIr: (body) => openAiChatResponseToIr(body),
  createStreamDecoder: (emit) => new OpenAiChatStreamDecoder(emit),
  preparePassthrough: (body, upstreamModel, stream) => openAiChatPreparePassthrough(body, upstreamModel, stream),
  usageOf: (body) => openAiChatUsageOf(body),
  finishReasonOf: (body) => openAiChatFinishReasonOf(body),
  replyFacts: (raw) => replyFactsFromSkeleton(raw, openAiChatUsageOf, openAiChatFinishReasonOf),
  createStreamObserver: (clientBody) => new OpenAiChatUsageObserver(clientBody),
};

export default definePlugin({
  kind: "format",
  name: PLUGIN,
  format: "openai-chat",
  description: "OpenAI Chat Completions: /v1/chat/completions and /v1/models, to and from the IR",
  configSchema,
  translator: openAiChatTranslator,
});
