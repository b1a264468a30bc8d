/**
 * Embeddings under the pipeline's governance: token rate limits counted from the input (an
 * embedding generates nothing, so no output allowance is reserved for it), and the usage API
 * summing embedding requests with chat's rules. Real gateway, the mock provider's deterministic
 * vectors (about four characters a token), raw HTTP and the official clients.
 */
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../../support/gateway.js";

const KEY_A = "sk-embed-limits-a";
const KEY_B = "sk-embed-limits-b";
const KEY_C = "sk-embed-limits-c";
const KEY_ADMIN = "sk-embed-limits-admin";
/** Input price per 1M tokens of the mock model. */
const INPUT_PRICE = 0.5;
const TOKEN_LIMIT = 100;

let gw: TestGateway;

beforeAll(async () => {
  const keys = (await keysFile([
    { key: KEY_A, id: "a", tenant: "tenant-a" },
    { key: KEY_B, id: "b", tenant: "tenant-b" },
    { key: KEY_C, id: "c", tenant: "tenant-c" },
    { key: KEY_ADMIN, id: "ops", tenant: "ops", role: "admin" },
  ])) as unknown;
  gw = await startGateway({
    "keys.json": keys,
    "pricing.json": { updated: "2026-12-01", currency: "USD", models: { "mock-embed": { input: INPUT_PRICE, output: 0 } } },
    "embed.pipeline.json": {
      id: "embed-limits",
      routes: [
        { method: "POST", path: "/v1/embeddings", format: "openai-chat", endpoint: "embeddings" },
        { method: "POST", path: "/v1beta/models/:target\\:batchEmbedContents", format: "gemini", endpoint: "embeddings" },
        { method: "GET", path: "/admin/usage", format: "openai-chat", endpoint: "usage" },
      ],
      backends: { mock: { use: "provider-mock", models: ["mock-embed"], config: { embeddingDimensions: 4 } } },
      steps: [
        { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } },
        { use: "usage-api" },
        { use: "ratelimit", config: { rules: [{ id: "tenant-tokens", by: "tenant", tokens: { limit: TOKEN_LIMIT, window: "1m" } }] } },
        { use: "embeddings" },
        { use: "cost", config: { pricingFile: "./pricing.json" } },
        { use: "record-jsonl", config: { path: "./data/records.jsonl", batchSize: 1 } },
      ],
    },
  });
});
afterAll(() => gw?.close());

async function embed(key: string, input: unknown): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(`${gw.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "mock-embed", input, encoding_format: "float" }),
  });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

/** What the ratelimit step reserves before the answer: about four characters of the request's JSON a token (and no output allowance). */
const reserved = (input: unknown) => Math.ceil(JSON.stringify({ model: "mock-embed", input, encoding_format: "float" }).length / 4);

describe("embeddings under token rate limits", () => {
  it("lets a small embedding through a token limit below the default output allowance (nothing is generated)", async () => {
    const reply = await embed(KEY_C, "a short text");
    expect(reply.status).toBe(200);
    expect(reply.body.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(Number(reply.headers.get("x-ratelimit-remaining-tokens"))).toBe(TOKEN_LIMIT - reserved("a short text"));
  });

  it("counts the input's tokens: the window holds what the inputs used, and refuses once they fill it", async () => {
    const input = "x".repeat(160); // 40 tokens
    const first = await embed(KEY_A, input);
    expect(first.status).toBe(200);
    expect(first.body.usage.prompt_tokens).toBe(40);
    // The first request's reservation was settled to its 40 input tokens before this one was counted.
    const second = await embed(KEY_A, input);
    expect(second.status).toBe(200);
    expect(Number(second.headers.get("x-ratelimit-remaining-tokens"))).toBe(TOKEN_LIMIT - 40 - reserved(input));
    const third = await embed(KEY_A, input);
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("refuses an input larger than the whole limit as too large, in the client's format", async () => {
    const reply = await embed(KEY_B, ["y".repeat(300), "z".repeat(300)]); // 150 tokens of input
    expect(reply.status).toBe(429);
    expect(reply.body.error).toMatchObject({ code: "request_too_large" });
    expect(reply.body.error.message).toMatch(/over the limit of 100 tokens per 1m by tenant/);

    const gemini = new GoogleGenAI({ apiKey: KEY_B, httpOptions: { baseUrl: gw.url, headers: { authorization: `Bearer ${KEY_B}` } } });
    await expect(gemini.models.embedContent({ model: "mock-embed", contents: ["w".repeat(500)] })).rejects.toMatchObject({ status: 429 });
  });
});

describe("embeddings in the usage API", () => {
  it("counts embedding requests with their input tokens, no output tokens, and their cost", async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const usageOf = async (tenant: string) => {
      const r = await fetch(`${gw.url}/admin/usage?from=${from}&group_by=tenant`, { headers: { authorization: `Bearer ${KEY_ADMIN}` } });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { rows: any[] };
      return body.rows.find((row) => row.key === tenant) ?? { requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
    };
    const before = await usageOf("tenant-c");

    const openai = new OpenAI({ apiKey: KEY_C, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const one = await openai.embeddings.create({ model: "mock-embed", input: ["first text", "second text"] });
    const gemini = new GoogleGenAI({ apiKey: KEY_C, httpOptions: { baseUrl: gw.url, headers: { authorization: `Bearer ${KEY_C}` } } });
    const two = await gemini.models.embedContent({ model: "mock-embed", contents: ["a third text to embed"] });
    expect(one.data).toHaveLength(2);
    expect(two.embeddings).toHaveLength(1);

    const after = await usageOf("tenant-c");
    // ceil(10/4) + ceil(11/4) for the OpenAI call, ceil(21/4) for Gemini's.
    const tokens = 3 + 3 + 6;
    expect(after.requests - before.requests).toBe(2);
    expect(after.input_tokens - before.input_tokens).toBe(tokens);
    expect(after.output_tokens - before.output_tokens).toBe(0);
    expect(after.cost_usd - before.cost_usd).toBeCloseTo((tokens * INPUT_PRICE) / 1e6, 12);
  });
});
