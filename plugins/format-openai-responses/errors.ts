/**
 * Errors in OpenAI's shape, both ways: GatewayError -> `{"error":{message,type,code,param}}` (and
 * the stream's `error` event) for clients; OpenAI error objects, `error` events and failed
 * responses -> GatewayError for the attempt loop.
 */
import { GatewayError, type RenderedError } from "../../core/index.js";
import { malformedUpstreamError } from "../../lib/upstream/errors.js";
import { gatewayErrorFromOpenAi } from "../../lib/wire/openai-error.js";
import { openAiErrorObject } from "../../lib/wire/openai-error.js";

export const PLUGIN = "format-openai-responses";


export function renderResponsesError(err: GatewayError): RenderedError {
  return { status: err.status, body: { error: openAiErrorObject(err) } };
}

/** A body or stream the upstream sent that is not this format. */
export function malformedUpstream(message: string, stream: boolean): GatewayError {
  return malformedUpstreamError(PLUGIN, message, stream);
}

/** An OpenAI error object (`{code, message, type?}`) the upstream sent in place of a result. */
export function upstreamError(error: unknown, stream: boolean): GatewayError {
  return gatewayErrorFromOpenAi(error, { stream, source: PLUGIN });
}
