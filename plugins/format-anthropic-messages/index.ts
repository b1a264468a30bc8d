/**
 * The Anthropic Messages format (`anthropic-messages`): clients on POST /v1/messages (and
 * GET /v1/models, POST /v1/messages/count_tokens), and backends that speak it (Anthropic, Bedrock/Vertex proxies, compatible servers).
 */
import { definePlugin, type FormatTranslator, type ModelInfo } from "../../core/index.js";
import { replyFactsFromSkeleton } from "../../lib/wire/reply-skeleton.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { PLUGIN, renderAnthropicError } from "./errors.js";
import { anthropicPreparePassthrough, anthropicRequestFromIr, anthropicUnsupportedFields } from "./request-from-ir.js";
import { anthropicRequestToIr, peekAnthropic } from "./request-to-ir.js";
import { anthropicResponseFromIr, anthropicResponseToIr, anthropicStopReasonOf, anthropicUsageOf } from "./response.js";
import { AnthropicStreamDecoder, AnthropicUsageObserver } from "./stream-decoder.js";
import { AnthropicStreamEncoder } from "./stream-encoder.js";

export const anthropicTranslator: FormatTranslator = {
  format: "anthropic-messages",
  peek: (body) => peekAnthropic(body),
  requestToIr: (body) => anthropicRequestToIr(body),
  responseFromIr: (response, request) => anthropicResponseFromIr(response, request),
  createStreamEncoder: (request, write) => new AnthropicStreamEncoder(request, write),
  renderError: (err) => renderAnthropicError(err),
  renderModels: (models: ModelInfo[]) => ({
    data: models.map((m) => ({ type: "model", id: m.id, display_name: m.id, created_at: "1970-01-01T00:00:00Z" })),
    has_more: false,
    first_id: models[0]?.id ?? null,
    last_id: models.at(-1)?.id ?? null,
  }),
  renderTokenCount: (count) => ({ input_tokens: count.inputTokens }),
  requestFromIr: (request) => anthropicRequestFromIr(request),
  unsupportedFields: (request) => anthropicUnsupportedFields(request),
  responseToIr: (body) => anthropicResponseToIr(body),
  createStreamDecoder: (emit) => new AnthropicStreamDecoder(emit),
  preparePassthrough: (body, upstreamModel) => anthropicPreparePassthrough(body, upstreamModel),
  usageOf: (body) => anthropicUsageOf(body),
  finishReasonOf: (body) => anthropicStopReasonOf(body),
  replyFacts: (raw) => replyFactsFromSkeleton(raw, anthropicUsageOf, anthropicStopReasonOf),
  createStreamObserver: () => new AnthropicUsageObserver(),
};

export default definePlugin({
  kind: "format",
  name: PLUGIN,
  format: "anthropic-messages",
  description: "Anthropic Messages: /v1/messages, to and from the IR",
  configSchema,
  translator: anthropicTranslator,
});
