/** budget on a real Redis shared by two gateway "instances": caps hold under concurrent load; outages follow the policy. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../lib/log.js";
import type { StateStore } from "../../../core/contract/store.js";
import { createRedisStore } from "../../../lib/state/redis.js";
import { createTestExchange, createTestStep } from "../../../testkit/index.js";
import budget, { periodOf } from "../../../plugins/budget/index.js";
import { skipWithoutRedis, startRedisServer, type RedisServer } from "../../support/redis-server.js";

let redis: RedisServer;
const stores: StateStore[] = [];

async function instance(config: unknown, onUnavailable: "fail-open" | "fail-closed" = "fail-open") {
  const store = createRedisStore({ url: redis.url, log: silentLogger, keyPrefix: "budget-test:", onUnavailable });
  stores.push(store);
  expect(await store.ready(5000)).toBe("ok");
  const { hooks } = await createTestStep(budget, config, { store, pipelineId: "chat", id: "spend" });
  return { store, hooks };
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

describe.skipIf(skipWithoutRedis())("budget on a shared Redis", () => {
  it("two instances under waves of concurrent requests never spend past the cap", async () => {
    const config = { budgets: [{ id: "cap", by: "tenant", limitUsd: 5, period: "day" }], estimate: { flatUsd: 0.1 } };
    const [a, b] = await Promise.all([instance(config), instance(config)]);
    let spentMicro = 0;
    let passed = 0;
    const request = async (i: number) => {
      const { hooks } = i % 2 ? a : b;
      const exchange = createTestExchange({ tenant: "acme" });
      if ((await hooks.validate.promise(exchange)) !== undefined) return;
      passed++;
      await new Promise((r) => setTimeout(r, i % 7)); // in flight for a moment, as a real call would be
      const cost = 0.05 + (i % 5) * 0.01; // 0.05 … 0.09, under the estimate
      exchange.attempts.push({ backend: "x", model: "m", status: 200, latencyMs: 1 });
      exchange.costUsd = cost;
      spentMicro += Math.round(cost * 1e6);
      await hooks.settle.promise(exchange);
    };
    // Waves, so later requests meet a total made of settled costs as well as in-flight estimates.
    for (let wave = 0; wave < 5; wave++) await Promise.all(Array.from({ length: 80 }, (_, i) => request(wave * 80 + i)));
    const counted = await a.store.add(`budget:chat:spend:cap:tenant:acme:${periodOf("day", Date.now()).id}`, 0, 60_000);
    console.log(`budget: cap $5.00, 5 waves of 80 concurrent requests over 2 instances, ${passed} passed, spent $${(spentMicro / 1e6).toFixed(2)}, overshoot $${Math.max(0, spentMicro / 1e6 - 5).toFixed(2)}`);
    expect(spentMicro).toBeLessThanOrEqual(5_000_000);
    expect(counted).toBe(spentMicro);
    expect(passed).toBeGreaterThan(50); // settled refunds let more in than the estimates alone would
  });

  it("with Redis killed, fail-closed answers 503 and fail-open lets requests through uncounted", async () => {
    const config = { budgets: [{ by: "tenant", limitUsd: 5, period: "day" }], estimate: { flatUsd: 0.1 } };
    const open = await instance(config, "fail-open");
    const closed = await instance(config, "fail-closed");
    await redis.kill();
    try {
      const e = createTestExchange({ tenant: "t" });
      expect(await open.hooks.validate.promise(e)).toBeUndefined();
      expect(e.notes.join(" ")).toMatch(/budget: state store unavailable/);
      expect(await closed.hooks.validate.promise(createTestExchange({ tenant: "t" }))).toMatchObject({ status: 503, type: "unavailable" });
    } finally {
      await redis.start();
    }
  });
});
