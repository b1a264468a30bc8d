/**
 * The cache step through a real gateway: an OpenAI-compatible upstream on loopback that counts
 * its requests, and the official OpenAI, Anthropic and Gemini SDKs in front.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../../core/index.js";
import { waitForRecords } from "../../support/records.js";
import { keysFile, startGateway, type TestGateway } from "../../support/gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../../support/upstream-openai.js";

const KEY_A = "sk-cache-tenant-a";
const KEY_B = "sk-cache-tenant-b";
const KEY_ADMIN = "sk-cache-admin";
const MODEL = "gpt-4o-mini";
const SYSTEM = "Answer in one sentence.";
const USAGE = { prompt_tokens: 1000, completion_tokens: 200 };
// 1000 input at $2/M and 200 output at $8/M.
const COST_USD = (1000 * 2 + 200 * 8) / 1e6;

let upstream: OpenAiUpstream;
let gw: TestGateway;

async function admin() {
  const file = (await keysFile([
    { key: KEY_A, id: "a", tenant: "tenant-a" },
    { key: KEY_B, id: "b", tenant: "tenant-b" },
    { key: KEY_ADMIN, id: "ops", tenant: "ops" },
  ])) as { keys: Array<Record<string, unknown>> };
  file.keys[2]!.role = "admin";
  return file;
}

beforeAll(async () => {
  upstream = await startOpenAiUpstream({ echo: true, usage: USAGE });
  gw = await startGateway(
    {
      "keys.json": await admin(),
      "pricing.json": { updated: "2026-01-01", currency: "USD", models: { [MODEL]: { input: 2, output: 8 } } },
      "cache.pipeline.json": {
        id: "cached",
        routes: [
          { path: "/v1/chat/completions", format: "openai-chat" },
          { path: "/v1/messages", format: "anthropic-messages" },
          { path: "/v1beta/models/:target", format: "gemini" },
          { method: "GET", path: "/admin/usage", format: "openai-chat", endpoint: "usage" },
        ],
        backends: { openai: { use: "provider-openai", models: [MODEL], config: { baseUrl: upstream.url, apiKey: "${env:CACHE_UPSTREAM_KEY}" } } },
        steps: [
          { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } },
          { use: "usage-api" },
          { use: "translate" },
          { use: "stream-sse" },
          { use: "cost", config: { pricingFile: "./pricing.json" } },
          { use: "cache", config: { ttlSeconds: 600 } },
          { use: "record-jsonl", config: { path: "./records.jsonl", batchSize: 1 } },
        ],
      },
    },
    { CACHE_UPSTREAM_KEY: "sk-upstream-secret" },
  );
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const openai = (key = KEY_A, headers: Record<string, string> = {}) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, defaultHeaders: headers, maxRetries: 0 });
const anthropic = (key = KEY_A) => new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
const gemini = (key = KEY_A) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: gw.url, headers: { authorization: `Bearer ${key}` } } });

/** The same question every client API can ask: one system prompt, one user turn, 64 tokens, no temperature (cached by default). */
async function askChat(user: string, options: { key?: string; headers?: Record<string, string>; stream?: boolean } = {}) {
  const client = openai(options.key, options.headers);
  const params = { model: MODEL, max_tokens: 64, messages: [{ role: "system" as const, content: SYSTEM }, { role: "user" as const, content: user }] };
  if (options.stream) {
    const { data, response } = await client.chat.completions.create({ ...params, stream: true }).withResponse();
    let text = "";
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? "";
    return { text, cache: response.headers.get("x-switchyard-cache"), backend: response.headers.get("x-switchyard-backend") };
  }
  const { data, response } = await client.chat.completions.create(params).withResponse();
  return { text: data.choices[0]!.message.content ?? "", usage: data.usage, cache: response.headers.get("x-switchyard-cache"), cost: response.headers.get("x-switchyard-cost-usd") };
}

let question = 0;
/** A question no other test asked, so each test starts from a cold cache. */
const fresh = (what: string) => `${what} #${++question}`;

afterEach(() => upstream.set({ echo: true, usage: USAGE }));

describe("cache", () => {
  it("answers the second identical request from the cache: one upstream call, marked miss then hit, zero cost", async () => {
    const user = fresh("what is a gateway?");
    const before = upstream.requests.length;
    const first = await askChat(user);
    const second = await askChat(user);
    expect(first).toMatchObject({ text: user, cache: "miss", cost: String(COST_USD) });
    expect(second).toMatchObject({ text: user, cache: "hit", cost: "0" });
    // Re-rendered from the IR: the same counts (the upstream's zero-valued details aside).
    expect(second.usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 });
    expect(upstream.requests.length - before).toBe(1);
  });

  it("hits across client formats: a Chat Completions answer serves the same question asked with Anthropic's and Gemini's SDKs", async () => {
    const user = fresh("name three colours");
    const before = upstream.requests.length;
    expect((await askChat(user)).cache).toBe("miss");

    const { data: message, response } = await anthropic()
      .messages.create({ model: MODEL, max_tokens: 64, system: SYSTEM, messages: [{ role: "user", content: user }] })
      .withResponse();
    expect(response.headers.get("x-switchyard-cache")).toBe("hit");
    expect(message.content).toEqual([{ type: "text", text: user, citations: null }].map(({ citations: _, ...t }) => t));
    expect(message.usage.output_tokens).toBe(200);

    const reply = await gemini().models.generateContent({ model: MODEL, contents: user, config: { systemInstruction: SYSTEM, maxOutputTokens: 64 } });
    expect(reply.text).toBe(user);
    expect(reply.sdkHttpResponse?.headers?.["x-switchyard-cache"]).toBe("hit");
    expect(upstream.requests.length - before).toBe(1);
  });

  it("replays a plain answer as a stream, read by the OpenAI, Anthropic and Gemini SDKs, and a streamed answer as a plain reply", async () => {
    const user = fresh("stream me what you said");
    const before = upstream.requests.length;
    expect((await askChat(user)).cache).toBe("miss");
    const replayed = await askChat(user, { stream: true });
    expect(replayed).toMatchObject({ text: user, cache: "hit", backend: "cache" });

    const stream = anthropic().messages.stream({ model: MODEL, max_tokens: 64, system: SYSTEM, messages: [{ role: "user", content: user }] });
    const final = await stream.finalMessage();
    expect(final.content).toMatchObject([{ type: "text", text: user }]);
    expect(final.stop_reason).toBe("end_turn");

    let geminiText = "";
    for await (const chunk of await gemini().models.generateContentStream({ model: MODEL, contents: user, config: { systemInstruction: SYSTEM, maxOutputTokens: 64 } })) geminiText += chunk.text ?? "";
    expect(geminiText).toBe(user);

    const streamedFirst = fresh("first streamed, then asked whole");
    expect(await askChat(streamedFirst, { stream: true })).toMatchObject({ text: streamedFirst, cache: "miss" });
    expect(await askChat(streamedFirst)).toMatchObject({ text: streamedFirst, cache: "hit" });
    expect(upstream.requests.length - before).toBe(2);
  });

  it("keeps tenants apart: another tenant's identical request is a miss and reaches the upstream", async () => {
    const user = fresh("my private question");
    const before = upstream.requests.length;
    expect((await askChat(user, { key: KEY_A })).cache).toBe("miss");
    expect((await askChat(user, { key: KEY_B })).cache).toBe("miss");
    expect((await askChat(user, { key: KEY_B })).cache).toBe("hit");
    expect(upstream.requests.length - before).toBe(2);
  });

  it("ignores user, metadata and key order, and tells apart what changes the answer", async () => {
    const user = fresh("same question, other labels");
    const send = (body: Record<string, unknown>) =>
      fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${KEY_A}`, "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => {
        await r.text();
        return r.headers.get("x-switchyard-cache");
      });
    const messages = [{ role: "system", content: SYSTEM }, { role: "user", content: user }];
    expect(await send({ model: MODEL, max_tokens: 64, messages })).toBe("miss");
    expect(await send({ messages, user: "someone", metadata: { ticket: "42" }, max_tokens: 64, model: MODEL })).toBe("hit");
    expect(await send({ model: MODEL, max_tokens: 65, messages })).toBe("miss");
    expect(await send({ model: MODEL, max_tokens: 64, messages, tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }] })).toBe("miss");
  });

  it("honours cache-control: no-cache skips the lookup but stores, no-store neither looks up nor stores", async () => {
    const user = fresh("control me");
    const before = upstream.requests.length;
    expect((await askChat(user, { headers: { "cache-control": "no-store" } })).cache).toBe("bypass");
    expect((await askChat(user)).cache).toBe("miss"); // no-store kept nothing
    expect((await askChat(user, { headers: { "cache-control": "no-cache" } })).cache).toBe("bypass");
    expect((await askChat(user, { headers: { "cache-control": "no-store" } })).cache).toBe("bypass");
    expect(upstream.requests.length - before).toBe(4);
    const refreshed = fresh("refreshed");
    expect((await askChat(refreshed, { headers: { "cache-control": "no-cache" } })).cache).toBe("bypass");
    expect((await askChat(refreshed)).cache).toBe("hit"); // no-cache stored its answer
  });

  it("does not cache sampled requests (temperature above 0) unless configured", async () => {
    const user = fresh("be creative");
    const body = { model: MODEL, max_tokens: 64, temperature: 0.7, messages: [{ role: "user" as const, content: user }] };
    const send = () => openai().chat.completions.create(body).withResponse().then(({ response }) => response.headers.get("x-switchyard-cache"));
    expect(await send()).toBe("bypass");
    expect(await send()).toBe("bypass");
  });

  it("coalesces 20 concurrent identical misses into exactly one upstream call", async () => {
    const user = fresh("everyone asks at once");
    let release!: () => void;
    upstream.set({ echo: true, usage: USAGE, holdUntil: new Promise<void>((r) => (release = r)) });
    const before = upstream.requests.length;
    const replies = Array.from({ length: 20 }, (_, i) => askChat(user, { stream: i % 2 === 1 }));
    await upstream.waitForRequests(before + 1);
    release();
    const seen = await Promise.all(replies);
    expect(upstream.requests.length - before).toBe(1);
    expect(seen.every((s) => s.text === user)).toBe(true);
    expect(seen.filter((s) => s.cache === "miss")).toHaveLength(1);
    expect(seen.filter((s) => s.cache === "hit")).toHaveLength(19);
    console.log(`cache: 20 concurrent identical requests -> ${upstream.requests.length - before} upstream call, 19 served by coalescing`);
  });

  it("when the request others wait on fails, each waiter asks the upstream on its own, at once", async () => {
    const user = fresh("the first one fails");
    let release!: () => void;
    upstream.queue({ error: { status: 400 }, holdUntil: new Promise<void>((r) => (release = r)) });
    const before = upstream.requests.length;
    const replies = Array.from({ length: 5 }, () => askChat(user).then((seen) => seen, (err: { status?: number }) => err.status));
    await upstream.waitForRequests(before + 1);
    release();
    const seen = await Promise.all(replies);
    expect(seen.filter((s) => s === 400)).toHaveLength(1);
    expect(seen.filter((s) => typeof s === "object" && s.cache === "miss" && s.text === user)).toHaveLength(4);
    expect(upstream.requests.length - before).toBe(5);
  });

  it("a client that leaves mid-stream closes the upstream request and leaves nothing stored; waiters ask on their own", async () => {
    const user = fresh("leaving early");
    let hold!: () => void;
    upstream.queue({ echo: true, usage: USAGE, chunks: 3, beforeChunk: (i) => (i === 1 ? new Promise<void>((r) => (hold = r)) : Promise.resolve()) });
    const before = upstream.requests.length;
    const controller = new AbortController();
    const client = openai();
    const stream = await client.chat.completions.create(
      { model: MODEL, max_tokens: 64, messages: [{ role: "system", content: SYSTEM }, { role: "user", content: user }], stream: true },
      { signal: controller.signal },
    );
    const waiter = askChat(user); // identical, arrives while the first is streaming: it waits for it
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break; // first text: leave
    }
    controller.abort();
    await upstream.requests[before]!.connectionClosed;
    hold();
    expect(await waiter).toMatchObject({ text: user, cache: "miss" });
    expect(upstream.requests.length - before).toBe(2);
  });

  it("does not store a failed answer: the next request goes upstream again", async () => {
    const user = fresh("fails first");
    const before = upstream.requests.length;
    upstream.queue({ error: { status: 400 } });
    await expect(askChat(user)).rejects.toMatchObject({ status: 400 });
    expect((await askChat(user)).cache).toBe("miss");
    expect(upstream.requests.length - before).toBe(2);
  });

  it("records hits with zero cost and the saved cost, and the usage API counts them", async () => {
    const user = fresh("count my savings");
    const from = new Date(Date.now() - 60_000).toISOString();
    const tenantB = () =>
      fetch(`${gw.url}/admin/usage?from=${from}&group_by=tenant`, { headers: { authorization: `Bearer ${KEY_ADMIN}` } })
        .then((r) => r.json() as Promise<any>)
        .then((usage) => usage.rows.find((r: any) => r.key === "tenant-b") ?? { requests: 0, cache_hits: 0, saved_cost_usd: 0, cost_usd: 0 });
    const before = await tenantB();
    await askChat(user, { key: KEY_B });
    await askChat(user, { key: KEY_B });
    await askChat(user, { key: KEY_B, stream: true });
    const after = await tenantB();
    expect(after.requests - before.requests).toBe(3);
    expect(after.cache_hits - before.cache_hits).toBe(2);
    expect(after.saved_cost_usd - before.saved_cost_usd).toBeCloseTo(2 * COST_USD, 9);
    expect(after.cost_usd - before.cost_usd).toBeCloseTo(COST_USD, 9);
    const all = await fetch(`${gw.url}/admin/usage?from=${from}&group_by=tenant`, { headers: { authorization: `Bearer ${KEY_ADMIN}` } }).then((r) => r.json() as Promise<{ rows: any[] }>);
    const sum = (field: string) => all.rows.reduce((n, row) => n + row[field], 0);
    console.log(`cache: ${sum("cache_hits")} hits of ${sum("requests")} requests in this file's tests, ${upstream.requests.length} upstream calls, $${sum("saved_cost_usd").toFixed(6)} saved`);

    const path = join(gw.dir, "records.jsonl");
    const ofTenantB = (records: RequestRecord[]) => records.filter((r) => r.tenant === "tenant-b");
    const written = (await waitForRecords(path, (records) => ofTenantB(records).length >= before.requests + 3)) as RequestRecord[];
    const mine = ofTenantB(written).slice(-3);
    expect(mine.map((r) => [r.cache, r.costUsd, r.savedCostUsd])).toEqual([
      ["miss", COST_USD, undefined],
      ["hit", 0, COST_USD],
      ["hit", 0, COST_USD],
    ]);
  });
});
