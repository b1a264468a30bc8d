/**
 * Two real gateway processes (`switchyard serve` from dist/) with one real Redis as their store:
 * a rate limit holds across both, counted in one window whichever instance takes the request, and
 * a concurrent burst spread over both lets exactly the limit through.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type ServeProcess } from "../support/cli-process.js";
import { keysFile } from "../support/gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";
import { skipWithoutRedis, startRedisServer, type RedisServer } from "../support/redis-server.js";

const KEYS = { turns: "sk-shared-turns", burst: "sk-shared-burst" };

let redis: RedisServer;
let upstream: OpenAiUpstream;
let instances: ServeProcess[] = [];

beforeAll(async () => {
  [redis, upstream] = await Promise.all([startRedisServer(), startOpenAiUpstream()]);
  const dir = await mkdtemp(join(tmpdir(), "switchyard-two-instances-"));
  await writeFile(join(dir, "keys.json"), JSON.stringify(await keysFile([
    { key: KEYS.turns, id: "turns", tenant: "t" },
    { key: KEYS.burst, id: "burst", tenant: "t" },
  ])));
  await writeFile(join(dir, "shared.pipeline.json"), JSON.stringify({
    id: "shared",
    store: { kind: "redis", url: redis.url, onUnavailable: "fail-closed" },
    routes: [{ method: "POST", path: "/v1/chat/completions", format: "openai-chat" }],
    backends: { up: { use: "provider-openai", models: ["gpt-*"], config: { baseUrl: upstream.url, apiKey: "sk-upstream-0123456789" } } },
    steps: [
      { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } },
      { use: "ratelimit", config: { rules: [{ id: "per-key", by: "key", requests: { limit: 3, window: "1h" } }] } },
    ],
  }));
  instances = await Promise.all([serve([dir]), serve([dir])]);
}, 60_000);

afterAll(async () => {
  for (const gw of instances) gw.child.kill("SIGTERM");
  await Promise.all(instances.map((gw) => gw.exited));
  await upstream?.close();
  await redis?.stop();
});

async function chat(gw: ServeProcess, key: string) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-test", messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  return { status: res.status, remaining: res.headers.get("x-ratelimit-remaining-requests") };
}

describe.skipIf(skipWithoutRedis())("two gateway processes sharing one Redis", () => {
  it("count one rate-limit window between them: requests taken in turns by each instance use up one shared limit", async () => {
    const [one, two] = instances as [ServeProcess, ServeProcess];
    expect(one.url).not.toBe(two.url);
    const seen = [await chat(one, KEYS.turns), await chat(two, KEYS.turns), await chat(one, KEYS.turns), await chat(two, KEYS.turns)];
    expect(seen).toEqual([
      { status: 200, remaining: "2" },
      { status: 200, remaining: "1" },
      { status: 200, remaining: "0" },
      { status: 429, remaining: "0" },
    ]);
  });

  it("let exactly the limit through when a concurrent burst is spread over both", async () => {
    const before = upstream.requests.length;
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(instances[i % 2]!, KEYS.burst)));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(3);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(9);
    expect(upstream.requests.length - before).toBe(3);
  });
});
