/**
 * Where the cache keeps its answers: the pipeline's store. A memory store with the test's own
 * clock for TTL expiry (no sleeping), a real Redis shared by two gateway instances, and a config
 * mistake reported at its file:line:col.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assembleGateway } from "../../../cli/assemble.js";
import { silentLogger } from "../../../lib/log.js";
import { createMemoryStore } from "../../../lib/state/memory.js";
import { builtInRegistry, startGateway } from "../../support/gateway.js";
import { skipWithoutRedis, startRedisServer, type RedisServer } from "../../support/redis-server.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../../support/upstream-openai.js";

const MODEL = "gpt-4o-mini";
let upstream: OpenAiUpstream;
const closing: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  upstream = await startOpenAiUpstream({ echo: true });
});
afterAll(async () => {
  for (const close of closing.reverse()) await close();
  await upstream?.close();
});

function pipeline(cache: Record<string, unknown>, store?: Record<string, unknown>) {
  return {
    id: "cached",
    ...(store ? { store } : {}),
    routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
    backends: { openai: { use: "provider-openai", models: [MODEL], config: { baseUrl: upstream.url, apiKey: "sk-upstream-secret" } } },
    steps: [{ use: "stream-sse" }, { use: "cache", config: cache }],
  };
}

/** A gateway from one pipeline file, its store opened by `openStore` when given (the way a test hands it a clock). */
async function serve(file: unknown, openStore?: Parameters<typeof assembleGateway>[1]["openStore"]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-cache-"));
  const path = join(dir, "cache.pipeline.json");
  await writeFile(path, JSON.stringify(file));
  const assembled = await assembleGateway([path], { registry: await builtInRegistry(), log: silentLogger, openStore });
  if (!assembled.ok) throw new Error(JSON.stringify(assembled.problems));
  const address = await assembled.server.listen(0, "127.0.0.1");
  closing.push(async () => {
    await assembled.server.drain(2_000);
    await assembled.reloader.close();
  });
  return `http://127.0.0.1:${address.port}`;
}

async function ask(url: string, user: string): Promise<{ text: string; cache: string | null }> {
  const client = new OpenAI({ apiKey: "unused", baseURL: `${url}/v1`, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: MODEL, max_tokens: 32, messages: [{ role: "user", content: user }] }).withResponse();
  return { text: data.choices[0]!.message.content ?? "", cache: response.headers.get("x-switchyard-cache") };
}

describe("cache in the pipeline's store", () => {
  it("serves an answer until its TTL runs out, then asks the upstream again (the store's clock, moved by the test)", async () => {
    const clock = { now: Date.parse("2026-06-01T00:00:00Z") };
    const url = await serve(pipeline({ ttlSeconds: 60 }), async () => createMemoryStore({ now: () => clock.now }));
    const before = upstream.requests.length;
    expect(await ask(url, "how long do you remember?")).toEqual({ text: "how long do you remember?", cache: "miss" });
    clock.now += 59_999;
    expect((await ask(url, "how long do you remember?")).cache).toBe("hit");
    clock.now += 1;
    expect((await ask(url, "how long do you remember?")).cache).toBe("miss");
    expect((await ask(url, "how long do you remember?")).cache).toBe("hit");
    expect(upstream.requests.length - before).toBe(2);
  });

  it("reports a bad config at its file:line:col", async () => {
    const text = `{\n  "id": "bad-cache",\n  "routes": [{ "path": "/v1/chat/completions", "format": "openai-chat" }],\n  "steps": [\n    { "use": "cache", "config": { "ttlSeconds": 0 } }\n  ]\n}\n`;
    await expect(startGateway({ "cache.pipeline.json": text })).rejects.toThrow(/cache\.pipeline\.json:5:49: cache config: must be >= 1/); // col 49: the 0 of ttlSeconds
  });
});

describe.skipIf(skipWithoutRedis())("cache on a shared Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
    closing.push(() => redis.stop());
  });

  it("an answer fetched through one gateway instance is a hit on the other", async () => {
    const file = pipeline({ ttlSeconds: 600 }, { kind: "redis", url: redis.url, keyPrefix: "cache-test:" });
    const [a, b] = [await serve(file), await serve(file)];
    const before = upstream.requests.length;
    expect(await ask(a, "shared between instances")).toEqual({ text: "shared between instances", cache: "miss" });
    expect(await ask(b, "shared between instances")).toEqual({ text: "shared between instances", cache: "hit" });
    expect(await ask(a, "shared between instances")).toEqual({ text: "shared between instances", cache: "hit" });
    expect(upstream.requests.length - before).toBe(1);
  });
});

