/** ratelimit on a real Redis shared by two gateway "instances" (two store clients, two plugin instances). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/contract/errors.js";
import { silentLogger } from "../../../lib/log.js";
import type { StateStore } from "../../../core/contract/store.js";
import { createRedisStore } from "../../../lib/state/redis.js";
import { createTestExchange, createTestStep } from "../../../testkit/index.js";
import ratelimit from "../../../plugins/ratelimit/index.js";
import { skipWithoutRedis, startRedisServer, type RedisServer } from "../../support/redis-server.js";
import { waitUntil } from "../../support/wait.js";

let redis: RedisServer;
const stores: StateStore[] = [];

async function instance(config: unknown, onUnavailable: "fail-open" | "fail-closed" = "fail-open") {
  const store = createRedisStore({ url: redis.url, log: silentLogger, keyPrefix: "rl-test:", onUnavailable });
  stores.push(store);
  expect(await store.ready(5000)).toBe("ok");
  const { hooks } = await createTestStep(ratelimit, config, { store, pipelineId: "chat", id: "limits" });
  return { store, hooks };
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

describe.skipIf(skipWithoutRedis())("ratelimit on a shared Redis", () => {
  it("two instances under concurrent load let no more than the global limit through", async () => {
    const config = { rules: [{ id: "global-load", by: "global", requests: { limit: 40, window: "1m" } }] };
    const [a, b] = await Promise.all([instance(config), instance(config)]);
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).hooks.validate.promise(createTestExchange())));
    const passed = replies.filter((r) => r === undefined).length;
    console.log(`ratelimit: global limit 40, 300 concurrent requests over 2 instances, ${passed} passed, overshoot ${passed - 40}`);
    expect(passed).toBe(40);
    expect(replies.filter((r) => r instanceof GatewayError && r.status === 429).length).toBe(260);
  });

  it("token limits and concurrency hold across instances", async () => {
    const config = { rules: [{ id: "tok", by: "tenant", tokens: { limit: 10_000, window: "1m" }, concurrent: 3 }] };
    const [a, b] = await Promise.all([instance(config), instance(config)]);
    const exchanges = Array.from({ length: 20 }, () => createTestExchange({ tenant: "t", body: { model: "m", max_tokens: 1000, messages: [] } }));
    const replies = await Promise.all(exchanges.map((e, i) => (i % 2 ? a : b).hooks.validate.promise(e)));
    const passedIdx = replies.flatMap((r, i) => (r === undefined ? [i] : []));
    expect(passedIdx.length).toBe(3);
    expect(await a.hooks.validate.promise(createTestExchange({ tenant: "t" }))).toMatchObject({ status: 429, code: "concurrency_limit_exceeded" });
    // A slot released by one instance is free for the other: slots are shared state, not per process.
    const first = passedIdx[0]!;
    await (first % 2 ? a : b).hooks.settle.promise(exchanges[first]!);
    expect(await (first % 2 ? b : a).hooks.validate.promise(createTestExchange({ tenant: "t" }))).toBeUndefined();
  });

  it("with Redis killed, fail-open lets requests through and fail-closed answers 503; both recover", async () => {
    const config = { rules: [{ id: "outage", by: "key", requests: { limit: 100, window: "1m" } }] };
    const open = await instance(config, "fail-open");
    const closed = await instance(config, "fail-closed");
    const overridden = await instance({ ...config, onUnavailable: "fail-closed" }, "fail-open");
    expect(await open.hooks.validate.promise(createTestExchange({ keyId: "k" }))).toBeUndefined();

    await redis.kill();
    const openExchange = createTestExchange({ keyId: "k" });
    expect(await open.hooks.validate.promise(openExchange)).toBeUndefined();
    expect(openExchange.notes.join("\n")).toMatch(/state store unavailable.*fail-open/);
    const refusal = await closed.hooks.validate.promise(createTestExchange({ keyId: "k" }));
    expect(refusal).toMatchObject({ status: 503, type: "unavailable", code: "state_store_unavailable" });
    expect(await overridden.hooks.validate.promise(createTestExchange({ keyId: "k" }))).toMatchObject({ status: 503 });
    expect(open.store.status().health).toBe("unavailable");
    await open.hooks.settle.promise(openExchange); // nothing held, nothing thrown

    await redis.start();
    await waitUntil(() => closed.store.health() === "ok", () => `store health ${closed.store.health()} after Redis came back`);
    expect(await closed.hooks.validate.promise(createTestExchange({ keyId: "k" }))).toBeUndefined();
  });
});
