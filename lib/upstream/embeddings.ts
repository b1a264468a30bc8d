/**
 * What every provider that embeds shares: reading the upstream's JSON reply (bounded, a broken
 * body failing like any other attempt), and the token estimate for upstreams that count none.
 */
import type { Readable } from "node:stream";
import { GatewayError, readBody, type EmbeddingCall } from "../../core/index.js";

/** 2,048 vectors of 3,072 floats as JSON text stay well below this. */
const EMBEDDING_REPLY_LIMIT = 256 * 1024 * 1024;

export async function readEmbeddingReply(body: Readable, source: string): Promise<unknown> {
  const raw = await readBody(body, { maxBytes: EMBEDDING_REPLY_LIMIT, overLimit: () => badReply(source, "the reply is too large") }).catch((err: unknown) => {
    throw err instanceof GatewayError ? err : GatewayError.upstreamBodyBroke(err, source);
  });
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw badReply(source, "the reply is not JSON");
  }
}

export function badReply(source: string, message: string): GatewayError {
  return new GatewayError({ status: 502, type: "upstream_error", code: "bad_upstream_response", message: `upstream sent an invalid embedding reply: ${message}`, failure: "status", upstreamStatus: 502, source });
}

/** About four characters a token for text; token ids count themselves. */
export function estimateEmbeddingTokens(inputs: EmbeddingCall["inputs"]): number {
  let tokens = 0;
  for (const input of inputs) tokens += typeof input === "string" ? Math.ceil(input.length / 4) : input.length;
  return tokens;
}

/** The vectors of a reply, checked: `count` arrays of finite numbers. */
export function checkedVectors(vectors: unknown, count: number, source: string): number[][] {
  if (!Array.isArray(vectors) || vectors.length !== count) throw badReply(source, `expected ${count} vectors`);
  for (const v of vectors) {
    if (!Array.isArray(v) || !v.every((n) => typeof n === "number" && Number.isFinite(n))) throw badReply(source, "a vector is not an array of numbers");
  }
  return vectors as number[][];
}

/** Token-id input reaches only upstreams that take token ids. */
export function textInputs(call: EmbeddingCall, source: string): string[] {
  if (call.inputs.some((i) => typeof i !== "string")) {
    throw new GatewayError({ status: 400, type: "invalid_request", code: "token_input_unsupported", param: "input", message: "token-array input needs a backend that takes token ids (OpenAI and compatibles); send text", source });
  }
  return call.inputs as string[];
}
