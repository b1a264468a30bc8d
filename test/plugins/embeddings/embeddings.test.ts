/**
 * The embeddings endpoint with the official clients: OpenAI's SDK (base64 by default, decoded by
 * the SDK, equal to the float answer) and @google/genai's, each on its own kind of backend and
 * across (OpenAI client -> Gemini backend, Gemini client -> OpenAI backend), on local stand-ins
 * that embed deterministically; a batch over Gemini's 100-input limit split and rejoined in order;
 * empty input refused naming the field; cost from the input price, and the record.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForRecords } from "../../support/records.js";
import { startGateway, type TestGateway } from "../../support/gateway.js";
import { startUpstream, type HttpUpstream } from "../../support/http-upstream.js";

/** The stand-ins' vector for a text: four floats exactly representable as float32, from its hash. */
function vectorOf(text: string): number[] {
  const hash = createHash("sha256").update(text).digest();
  return [0, 1, 2, 3].map((i) => (hash[i]! - 128) / 256);
}

let upstream: HttpUpstream;
let gw: TestGateway;
const batches: { path: string; size: number }[] = [];

beforeAll(async () => {
  upstream = await startUpstream(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    res.setHeader("content-type", "application/json");
    if (req.url === "/v1/embeddings") {
      const inputs: string[] = typeof body.input === "string" ? [body.input] : body.input;
      batches.push({ path: req.url, size: inputs.length });
      // Out of order on purpose: the provider orders by index.
      const data = inputs.map((text, index) => ({ object: "embedding", index, embedding: vectorOf(text) })).reverse();
      return void res.end(JSON.stringify({ object: "list", data, model: body.model, usage: { prompt_tokens: inputs.length * 3, total_tokens: inputs.length * 3 } }));
    }
    if (req.url === "/v1beta/models/text-embedding-004:batchEmbedContents") {
      if (body.requests.length > 100) {
        res.statusCode = 400;
        return void res.end(JSON.stringify({ error: { code: 400, message: "at most 100 requests can be in one batch", status: "INVALID_ARGUMENT" } }));
      }
      batches.push({ path: req.url, size: body.requests.length });
      return void res.end(JSON.stringify({ embeddings: body.requests.map((r: any) => ({ values: vectorOf(r.content.parts.map((p: any) => p.text).join("\n")) })) }));
    }
    res.statusCode = 404;
    res.end("{}");
  });
  gw = await startGateway({
    "pricing.json": { updated: "2026-12-01", currency: "USD", models: { "text-embedding-3-small": { input: 0.02, output: 0 }, "text-embedding-004": { input: 0.15, output: 0 } } },
    "embed.pipeline.json": {
      id: "embed",
      routes: [
        { method: "POST", path: "/v1/embeddings", format: "openai-chat", endpoint: "embeddings" },
        { method: "POST", path: "/v1beta/models/:target\\:embedContent", format: "gemini", endpoint: "embeddings" },
        { method: "POST", path: "/v1beta/models/:target\\:batchEmbedContents", format: "gemini", endpoint: "embeddings" },
        { method: "POST", path: "/v1beta/models/:target", format: "gemini" },
      ],
      backends: {
        openai: { use: "provider-openai", models: ["text-embedding-3-*"], config: { baseUrl: `${upstream.url}/v1`, apiKey: "sk-upstream-embeddings-key" } },
        google: { use: "provider-gemini", models: ["text-embedding-004"], config: { baseUrl: upstream.url, apiKey: "AIzaSyUPSTREAMEMBEDDINGSKEY00000" } },
        mock: { use: "provider-mock", models: ["mock-embed"], config: { embeddingDimensions: 6 } },
      },
      steps: [
        { use: "embeddings" },
        { use: "cost", config: { pricingFile: "./pricing.json" } },
        { use: "record-jsonl", config: { path: "./data/records.jsonl", batchSize: 1 } },
      ],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const openai = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
const genai = () => new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: gw.url } });

describe("embeddings through the official clients", () => {
  it("OpenAI SDK on an OpenAI backend: base64 (the SDK's default) decodes to exactly the float answer", async () => {
    const texts = ["alpha", "beta", "gamma"];
    const viaBase64 = await openai().embeddings.create({ model: "text-embedding-3-small", input: texts });
    const viaFloat = await openai().embeddings.create({ model: "text-embedding-3-small", input: texts, encoding_format: "float" });
    expect(viaBase64.data.map((d) => d.embedding)).toEqual(texts.map(vectorOf));
    expect(viaFloat.data.map((d) => d.embedding)).toEqual(viaBase64.data.map((d) => d.embedding));
    expect(viaFloat.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(viaFloat.usage).toEqual({ prompt_tokens: 9, total_tokens: 9 });
    expect(viaFloat.model).toBe("text-embedding-3-small");
  });

  it("OpenAI SDK on a Gemini backend, 205 inputs: split into batches of 100, rejoined in order", async () => {
    const texts = Array.from({ length: 205 }, (_, i) => `document ${i}`);
    const before = batches.length;
    const res = await openai().embeddings.create({ model: "text-embedding-004", input: texts, encoding_format: "float" });
    expect(batches.slice(before)).toEqual([100, 100, 5].map((size) => ({ path: "/v1beta/models/text-embedding-004:batchEmbedContents", size })));
    expect(res.data.map((d) => d.embedding)).toEqual(texts.map(vectorOf));
    // Gemini counts no tokens for embeddings: estimated from the text (about four characters a token).
    expect(res.usage.prompt_tokens).toBe(texts.reduce((n, t) => n + Math.ceil(t.length / 4), 0));
  });

  it("@google/genai on a Gemini backend and on an OpenAI backend (batchEmbedContents), and embedContent by hand", async () => {
    const contents = ["What is your name?", "What is your favorite color?"];
    const same = await genai().models.embedContent({ model: "text-embedding-004", contents });
    expect(same.embeddings?.map((e) => e.values)).toEqual(contents.map(vectorOf));
    const across = await genai().models.embedContent({ model: "text-embedding-3-small", contents });
    expect(across.embeddings?.map((e) => e.values)).toEqual(contents.map(vectorOf));
    const single = await fetch(`${gw.url}/v1beta/models/text-embedding-3-small:embedContent`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content: { parts: [{ text: "one" }, { text: "text" }] } }),
    });
    expect(await single.json()).toEqual({ embedding: { values: vectorOf("one\ntext") } });
  });

  it("the mock embeds deterministically: the same text the same unit vector, in the asked dimensions; token-array input too", async () => {
    const a = await openai().embeddings.create({ model: "mock-embed", input: ["same", "other", "same"], encoding_format: "float" });
    const [x, y, z] = a.data.map((d) => d.embedding);
    expect(x).toHaveLength(6);
    expect(z).toEqual(x);
    expect(y).not.toEqual(x);
    expect(Math.hypot(...x!)).toBeCloseTo(1, 6);
    const sized = await openai().embeddings.create({ model: "mock-embed", input: [[1, 2, 3], [4, 5]], dimensions: 3, encoding_format: "float" });
    expect(sized.data.map((d) => d.embedding.length)).toEqual([3, 3]);
    expect(sized.usage.prompt_tokens).toBe(5);
  });

  it("token-array input to a backend that takes text only is a 400 naming input", async () => {
    const err = await openai().embeddings.create({ model: "text-embedding-004", input: [[1, 2, 3]] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("input");
  });
});

describe("embeddings refusals", () => {
  for (const [name, input] of [["empty string", ""], ["empty array", []], ["an empty string in a list", ["a", ""]]] as const) {
    it(`OpenAI: ${name} is a 400 naming the field`, async () => {
      const err = await openai().embeddings.create({ model: "mock-embed", input: input as unknown as string[] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(name === "an empty string in a list" ? "input[1]" : "input");
    });
  }

  it("Gemini: no requests, or a content without text, is a 400 naming the field in Google's shape", async () => {
    for (const [path, body, field] of [
      ["text-embedding-004:batchEmbedContents", { requests: [] }, "requests"],
      ["text-embedding-004:embedContent", { content: { parts: [] } }, "content"],
    ] as const) {
      const res = await fetch(`${gw.url}/v1beta/models/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: { status: string; message: string } };
      expect(json.error.status).toBe("INVALID_ARGUMENT");
      expect(json.error.message.startsWith(`${field}:`)).toBe(true);
    }
  });

  it("the generate route beside the embeddings routes still refuses other methods (:countTokens)", async () => {
    const res = await fetch(`${gw.url}/v1beta/models/text-embedding-004:countTokens`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(404);
  });
});

describe("embeddings are costed and recorded like chat", () => {
  it("cost from the input price per 1M tokens, usage and backend on the record", async () => {
    const res = await openai().embeddings.create({ model: "text-embedding-3-small", input: ["priced"], encoding_format: "float" }).withResponse();
    expect(Number(res.response.headers.get("x-switchyard-cost-usd"))).toBeCloseTo((3 * 0.02) / 1e6, 12);
    const id = res.response.headers.get("x-switchyard-request-id");
    const records = await waitForRecords(join(gw.dir, "data/records.jsonl"), (all) => all.some((r) => r.id === id));
    const record = records.find((r) => r.id === id);
    expect(record).toMatchObject({ backend: "openai", status: 200, usage: { inputTokens: 3, outputTokens: 0 } });
    expect(record.costUsd).toBeCloseTo(6e-8, 12);
  });
});
