/**
 * AWS Bedrock's Converse API (`bedrock-converse`), spoken by provider-bedrock backends: requests
 * from the IR, replies and streams to it. Backends only: a ConverseStream reaches clients as
 * binary event-stream frames, which the gateway's SSE relay does not write, so a route in this
 * format answers every request with a 400 that says so (clients speak openai-chat,
 * anthropic-messages, gemini or openai-responses, and the translate step carries them here).
 */
import { definePlugin, GatewayError, type FormatTranslator } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { PLUGIN, renderBedrockError } from "./errors.js";
import { converseRequestFromIr, converseUnsupportedFields } from "./request-from-ir.js";
import { converseResponseToIr, converseStopReasonOf, converseUsageOf } from "./response.js";
import { ConverseStreamDecoder, ConverseUsageObserver } from "./stream-decoder.js";

const FORMAT = "bedrock-converse";

function notAClientFormat(): never {
  throw new GatewayError({
    status: 400, type: "invalid_request", code: "format_not_served", source: PLUGIN,
    message: `${FORMAT} is spoken by backends only: send OpenAI, Anthropic or Gemini requests and the gateway translates them`,
  });
}

export const converseTranslator: FormatTranslator = {
  format: FORMAT,
  peek: notAClientFormat,
  requestToIr: notAClientFormat,
  responseFromIr: notAClientFormat,
  createStreamEncoder: notAClientFormat,
  renderError: (err) => renderBedrockError(err),
  requestFromIr: (request) => converseRequestFromIr(request),
  unsupportedFields: (request) => converseUnsupportedFields(request),
  responseToIr: (body) => converseResponseToIr(body),
  createStreamDecoder: (emit) => new ConverseStreamDecoder(emit),
  // The model travels in the URL: the body goes as it is.
  preparePassthrough: () => undefined,
  usageOf: (body) => converseUsageOf(body),
  finishReasonOf: (body) => converseStopReasonOf(body),
  createStreamObserver: () => new ConverseUsageObserver(),
};

export default definePlugin({
  kind: "format",
  name: PLUGIN,
  format: FORMAT,
  description: "AWS Bedrock Converse / ConverseStream, from and to the IR (backends only)",
  configSchema,
  translator: converseTranslator,
});
