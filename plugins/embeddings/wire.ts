/**
 * Embedding requests and replies in the clients' own shapes: OpenAI's `/v1/embeddings` and
 * Gemini's `:embedContent` / `:batchEmbedContents`. Each reads into one neutral request (inputs
 * in order, the vector length asked for) and renders the vectors back.
 */
import { GatewayError, isObject, type Exchange, type WireObject } from "../../core/index.js";
import { invalidField } from "../../lib/wire/fields.js";

export interface EmbeddingRequest {
  inputs: Array<string | number[]>;
  dimensions: number | undefined;
  /** How the client wants the vectors: OpenAI's `encoding_format` (its SDK asks base64 by default). */
  encoding: "float" | "base64";
  /** Gemini's single-content method answers one `embedding`, the batch one a list. */
  single: boolean;
}

export interface EmbeddingWire {
  read(x: Exchange): EmbeddingRequest;
  render(x: Exchange, request: EmbeddingRequest, vectors: number[][], inputTokens: number): unknown;
}

function dimensionsOf(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw invalidField(param, "must be a positive integer");
  return value;
}

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((t) => typeof t === "number" && Number.isInteger(t) && t >= 0);
}

/** Float32 little-endian bytes in base64, as OpenAI encodes `encoding_format: "base64"`. */
export function base64Vector(vector: number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString("base64");
}

export const openAiEmbeddings: EmbeddingWire = {
  read(x) {
    const body = x.body;
    const input = body.input;
    let inputs: Array<string | number[]>;
    if (typeof input === "string") inputs = [input];
    else if (isTokenArray(input)) inputs = [input];
    else if (Array.isArray(input) && input.length > 0 && input.every((i) => typeof i === "string")) inputs = input as string[];
    else if (Array.isArray(input) && input.length > 0 && input.every(isTokenArray)) inputs = input as number[][];
    else if (input === undefined || (Array.isArray(input) && input.length === 0)) throw invalidField("input", "must be a non-empty string, array of strings, array of token ids, or array of token-id arrays");
    else throw invalidField("input", "must be a string, an array of strings, an array of token ids, or an array of token-id arrays");
    const empty = inputs.findIndex((i) => i.length === 0);
    if (empty >= 0) throw invalidField(inputs.length === 1 ? "input" : `input[${empty}]`, "must not be empty");
    const encoding = body.encoding_format ?? "float";
    if (encoding !== "float" && encoding !== "base64") throw invalidField("encoding_format", 'must be "float" or "base64"');
    return { inputs, dimensions: dimensionsOf(body.dimensions, "dimensions"), encoding, single: false };
  },
  render(x, request, vectors, inputTokens) {
    return {
      object: "list",
      data: vectors.map((v, index) => ({ object: "embedding", index, embedding: request.encoding === "base64" ? base64Vector(v) : v })),
      model: x.model,
      usage: { prompt_tokens: inputTokens, total_tokens: inputTokens },
    };
  },
};

/** The text parts of a Gemini `Content`, joined: Gemini embeds a content as one text. */
function contentText(content: unknown, param: string): string {
  if (!isObject(content) || !Array.isArray(content.parts)) throw invalidField(param, "must be a content with parts");
  const texts = content.parts.map((part: unknown, i: number) => {
    if (!isObject(part) || typeof part.text !== "string") throw invalidField(`${param}.parts[${i}]`, "must be a text part (embeddings take text)");
    return part.text;
  });
  const text = texts.join("\n");
  if (text.length === 0) throw invalidField(param, "must hold some text");
  return text;
}

function geminiMethod(x: Exchange): "embedContent" | "batchEmbedContents" {
  const method = x.inbound.path.slice(x.inbound.path.lastIndexOf(":") + 1);
  if (method === "embedContent" || method === "batchEmbedContents") return method;
  throw new GatewayError({ status: 404, type: "not_found", code: "unsupported_method", param: "target", message: `target: method ${method} is not served here; use embedContent or batchEmbedContents` });
}

export const geminiEmbeddings: EmbeddingWire = {
  read(x) {
    const body: WireObject = x.body;
    if (geminiMethod(x) === "embedContent") {
      return { inputs: [contentText(body.content, "content")], dimensions: dimensionsOf(body.outputDimensionality, "outputDimensionality"), encoding: "float", single: true };
    }
    if (!Array.isArray(body.requests) || body.requests.length === 0) throw invalidField("requests", "must be a non-empty array of embed requests");
    const requests = body.requests as unknown[];
    const inputs = requests.map((r, i) => contentText(isObject(r) ? r.content : undefined, `requests[${i}].content`));
    const sizes = new Set(requests.map((r, i) => dimensionsOf(isObject(r) ? r.outputDimensionality : undefined, `requests[${i}].outputDimensionality`)));
    if (sizes.size > 1) throw invalidField("requests", "every request must ask for the same outputDimensionality");
    return { inputs, dimensions: [...sizes][0], encoding: "float", single: false };
  },
  render(_x, request, vectors) {
    return request.single ? { embedding: { values: vectors[0] } } : { embeddings: vectors.map((values) => ({ values })) };
  },
};
