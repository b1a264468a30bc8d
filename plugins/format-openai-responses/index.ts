/**
 * The OpenAI Responses format (`openai-responses`), stateless: clients on POST /v1/responses that
 * send the whole conversation each time, and backends that speak it (written with `store: false`).
 */
import { definePlugin, type FormatTranslator, type ModelInfo } from "../../core/index.js";
import { replyFactsFromSkeleton } from "../../lib/wire/reply-skeleton.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { PLUGIN, renderResponsesError } from "./errors.js";
import { responsesPreparePassthrough, responsesRequestFromIr, responsesUnsupportedFields } from "./request-from-ir.js";
import { peekResponses, responsesRequestToIr } from "./request-to-ir.js";
import { responsesResponseFromIr, responsesResponseToIr, responsesFinishReasonOf, responsesUsageOf } from "./response.js";
import { ResponsesStreamDecoder, ResponsesUsageObserver } from "./stream-decoder.js";
import { ResponsesStreamEncoder } from "./stream-encoder.js";

export const responsesTranslator: FormatTranslator = {
  format: "openai-responses",
  peek: (body) => peekResponses(body),
  requestToIr: (body) => responsesRequestToIr(body),
  responseFromIr: (response, request) => responsesResponseFromIr(response, request),
  createStreamEncoder: (request, write) => new ResponsesStreamEncoder(request, write),
  renderError: (err) => renderResponsesError(err),
  renderModels: (models: ModelInfo[]) => ({
    object: "list",
    data: models.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.ownedBy })),
  }),
  // POST /v1/responses/input_tokens answers this shape.
  renderTokenCount: (count) => ({ object: "response.input_tokens", input_tokens: count.inputTokens }),
  requestFromIr: (request) => responsesRequestFromIr(request),
  unsupportedFields: (request) => responsesUnsupportedFields(request),
  responseToIr: (body) => responsesResponseToIr(body),
  createStreamDecoder: (emit) => new ResponsesStreamDecoder(emit),
  preparePassthrough: (body, upstreamModel) => responsesPreparePassthrough(body, upstreamModel),
  usageOf: (body) => responsesUsageOf(body),
  finishReasonOf: (body) => responsesFinishReasonOf(body),
  replyFacts: (raw) => replyFactsFromSkeleton(raw, responsesUsageOf, responsesFinishReasonOf),
  createStreamObserver: () => new ResponsesUsageObserver(),
};

export default definePlugin({
  kind: "format",
  name: PLUGIN,
  format: "openai-responses",
  description: "OpenAI Responses (stateless): /v1/responses, to and from the IR",
  configSchema,
  translator: responsesTranslator,
});
