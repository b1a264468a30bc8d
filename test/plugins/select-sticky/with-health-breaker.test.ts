import { describe, expect, it } from "vitest";
import { PipelineHooks, type Attempt, type Backend } from "../../../core/index.js";
import { configFor, createTestBackend, createTestEnv, createTestExchange } from "../../../testkit/index.js";
import { healthBreakerPlugin } from "../../../plugins/health-breaker/index.js";
import selectSticky from "../../../plugins/select-sticky/index.js";

describe("select-sticky behind health-breaker", () => {
  it("moves only the keys of a backend whose circuit opened, and brings them back when it closes", async () => {
    const ids = ["a", "b", "c", "d"];
    const backends = new Map<string, Backend>(ids.map((id) => [id, createTestBackend(id)]));
    const attempts: Attempt[] = ids.map((id) => ({ backend: backends.get(id)!, model: "m" }));
    const clock = { t: 0 };
    const hooks = new PipelineHooks();
    const env = createTestEnv({ backends });
    const breaker = healthBreakerPlugin({ now: () => clock.t });
    (await breaker.create(configFor(breaker, { consecutiveFailures: 1, cooldownMs: 1_000, drop: true }), env)).apply(hooks);
    (await selectSticky.create(configFor(selectSticky, { key: "header:x-session-id" }), env)).apply(hooks);

    const firstFor = async (key: string) => (await hooks.plan.promise(attempts, createTestExchange({ headers: { "x-session-id": key } })))[0]!.backend.id;
    const keys = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);
    const before = await Promise.all(keys.map(firstFor));

    const exchange = createTestExchange();
    hooks.attemptStarted.call(exchange, attempts[1]!);
    hooks.attemptFinished.call(exchange, { backend: "b", model: "m", failure: "connect", latencyMs: 3 });
    const during = await Promise.all(keys.map(firstFor));
    const moved = keys.filter((_, i) => during[i] !== before[i]).length;
    const onB = before.filter((id) => id === "b").length;
    console.log(`select-sticky behind health-breaker: b held ${onB} of ${keys.length} keys; ${moved} moved while b's circuit was open`);
    expect(during).not.toContain("b");
    expect(moved).toBe(onB);

    clock.t = 1_000;
    hooks.attemptStarted.call(exchange, attempts[1]!);
    hooks.attemptFinished.call(exchange, { backend: "b", model: "m", status: 200, latencyMs: 3 });
    expect(await Promise.all(keys.map(firstFor))).toEqual(before);
  });
});
