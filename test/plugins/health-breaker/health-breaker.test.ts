import { describe, expect, it } from "vitest";
import type { Attempt, AttemptOutcome, Backend, Logger } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import { healthBreakerPlugin } from "../../../plugins/health-breaker/index.js";
import { askBackendStates } from "../../../lib/health/report.js";

const ok: Partial<AttemptOutcome> = { status: 200 };
const serverError: Partial<AttemptOutcome> = { status: 500, failure: "status" };
const refused: Partial<AttemptOutcome> = { failure: "connect" };
const tooMany = (retryAfterMs?: number): Partial<AttemptOutcome> => ({ status: 429, failure: "status", retryAfterMs });

async function breaker(config: unknown, ids = ["a", "b", "c"], log?: Logger) {
  const backends = new Map<string, Backend>(ids.map((id) => [id, createTestBackend(id)]));
  const attempts: Attempt[] = ids.map((id) => ({ backend: backends.get(id)!, model: "m" }));
  const clock = { t: 0 };
  const { hooks } = await createTestStep(healthBreakerPlugin({ now: () => clock.t }), config, log ? { backends, log } : { backends });
  let exchange = createTestExchange();
  const at = (id: string) => attempts.find((x) => x.backend.id === id)!;
  const start = (id: string) => hooks.attemptStarted.call(exchange, at(id));
  const finish = (id: string, outcome: Partial<AttemptOutcome>) => hooks.attemptFinished.call(exchange, { backend: id, model: "m", latencyMs: 10, ...outcome });
  return {
    clock,
    states: () => askBackendStates(hooks),
    /** The plan as backend ids, for a fresh exchange (see heldBack). */
    plan: async () => {
      exchange = createTestExchange();
      return (await hooks.plan.promise(attempts, exchange)).map((x) => x.backend.id).join("");
    },
    /** What the last plan told the core about the backends it left out. */
    heldBack: () => exchange.heldBack,
    start,
    finish,
    /** One whole attempt on `id`. */
    attempt: (id: string, outcome: Partial<AttemptOutcome>, times = 1) => {
      for (let i = 0; i < times; i++) {
        start(id);
        finish(id, outcome);
      }
    },
  };
}

describe("health-breaker", () => {
  it("tells the backend-states question each circuit's state as it moves closed -> open -> half-open -> closed", async () => {
    const hb = await breaker({ consecutiveFailures: 1, cooldownMs: 5_000, on: ["connect"] }, ["a", "b"]);
    hb.attempt("a", refused);
    hb.clock.t = 1_000;
    expect(Object.fromEntries(await hb.states())).toEqual({
      a: { breaker: { state: "open", rateLimited: false, availableInMs: 4_000 } },
      b: { breaker: { state: "closed", rateLimited: false, availableInMs: 0 } },
    });
    hb.clock.t = 6_000;
    expect((await hb.states()).get("a")?.breaker?.state).toBe("half-open");
    hb.attempt("a", ok);
    expect((await hb.states()).get("a")?.breaker?.state).toBe("closed");
    hb.attempt("b", tooMany(2_000));
    expect((await hb.states()).get("b")?.breaker).toEqual({ state: "closed", rateLimited: true, availableInMs: 2_000 });
  });

  it("opens after consecutiveFailures failures in a row and moves the backend to the end", async () => {
    const hb = await breaker({ consecutiveFailures: 3 });
    hb.attempt("a", serverError, 2);
    expect(await hb.plan()).toBe("abc");
    hb.attempt("a", refused);
    expect(await hb.plan()).toBe("bca");
  });

  it("starts the run of failures over after a success", async () => {
    const hb = await breaker({ consecutiveFailures: 3 });
    hb.attempt("a", serverError, 2);
    hb.attempt("a", ok);
    hb.attempt("a", serverError, 2);
    expect(await hb.plan()).toBe("abc");
  });

  it("drops open backends with drop, saying when they come back", async () => {
    const hb = await breaker({ consecutiveFailures: 1, cooldownMs: 5_000, drop: true });
    hb.attempt("b", refused);
    hb.clock.t = 1_000;
    expect(await hb.plan()).toBe("ac");
    expect(hb.heldBack()).toEqual({ retryAfterMs: 4_000, rateLimited: false });
  });

  it("empties the plan when every backend is open, with the soonest return as retry-after", async () => {
    const hb = await breaker({ consecutiveFailures: 1, cooldownMs: 5_000 });
    hb.attempt("a", refused);
    hb.clock.t = 1_000;
    hb.attempt("b", refused);
    hb.attempt("c", { failure: "timeout" });
    hb.clock.t = 2_000;
    expect(await hb.plan()).toBe("");
    expect(hb.heldBack()).toEqual({ retryAfterMs: 3_000, rateLimited: false });
    hb.clock.t = 5_000;
    expect(await hb.plan()).toBe("abc");
    expect(hb.heldBack()).toBeUndefined();
  });

  it("says rateLimited when every backend is cooling after a 429, and not when one of them is open", async () => {
    const hb = await breaker({ on: ["5xx"] });
    hb.attempt("a", tooMany(3_000));
    hb.attempt("b", tooMany(2_000));
    hb.attempt("c", tooMany(9_000));
    expect(await hb.plan()).toBe("");
    expect(hb.heldBack()).toEqual({ retryAfterMs: 2_000, rateLimited: true });

    const mixed = await breaker({ on: ["5xx"], consecutiveFailures: 1, cooldownMs: 5_000 }, ["a", "b"]);
    mixed.attempt("a", tooMany(1_000));
    mixed.attempt("b", serverError);
    expect(await mixed.plan()).toBe("");
    expect(mixed.heldBack()).toEqual({ retryAfterMs: 1_000, rateLimited: false });
  });

  it("gives retry-after 0 while a half-open probe runs: the backend is back as soon as it succeeds", async () => {
    const hb = await breaker({ consecutiveFailures: 1, cooldownMs: 1_000 }, ["a"]);
    hb.attempt("a", refused);
    hb.clock.t = 1_000;
    hb.start("a");
    expect(await hb.plan()).toBe("");
    expect(hb.heldBack()).toEqual({ retryAfterMs: 0, rateLimited: false });
  });

  it("keeps the smaller wait when an earlier step already held backends back", async () => {
    const exchange = createTestExchange();
    exchange.heldBack = { retryAfterMs: 1_000, rateLimited: true };
    const a = createTestBackend("a");
    const { hooks } = await createTestStep(healthBreakerPlugin({ now: () => 0 }), { consecutiveFailures: 1, cooldownMs: 5_000 }, { backends: new Map([["a", a]]) });
    hooks.attemptFinished.call(exchange, { backend: "a", model: "m", latencyMs: 1, failure: "connect" });
    expect(await hooks.plan.promise([{ backend: a, model: "m" }], exchange)).toEqual([]);
    expect(exchange.heldBack).toEqual({ retryAfterMs: 1_000, rateLimited: false });
  });

  it("leaves the plan whole when every backend is open with whenAllUnavailable try", async () => {
    const hb = await breaker({ consecutiveFailures: 1, drop: true, whenAllUnavailable: "try" });
    hb.attempt("b", refused);
    expect(await hb.plan()).toBe("ac");
    hb.attempt("a", refused);
    hb.attempt("c", { failure: "timeout" });
    expect(await hb.plan()).toBe("abc");
    expect(hb.heldBack()).toBeUndefined();
  });

  it("half-opens after cooldownMs, lets one probe through, and closes when it succeeds", async () => {
    const hb = await breaker({ consecutiveFailures: 2, cooldownMs: 10_000 });
    hb.attempt("a", serverError, 2);
    hb.clock.t = 9_999;
    expect(await hb.plan()).toBe("bca");
    hb.clock.t = 10_000;
    expect(await hb.plan()).toBe("abc");
    hb.start("a");
    expect(await hb.plan()).toBe("bca");
    hb.clock.t = 10_500;
    hb.finish("a", ok);
    expect(await hb.plan()).toBe("abc");
    // Closed with a fresh count: one failure is not enough to open it again.
    hb.attempt("a", serverError);
    expect(await hb.plan()).toBe("abc");
  });

  it("reopens for another cooldown when the probe fails", async () => {
    const hb = await breaker({ consecutiveFailures: 1, cooldownMs: 1_000 });
    hb.attempt("a", refused);
    hb.clock.t = 1_000;
    hb.attempt("a", refused);
    hb.clock.t = 1_999;
    expect(await hb.plan()).toBe("bca");
    hb.clock.t = 2_000;
    expect(await hb.plan()).toBe("abc");
  });

  it("needs halfOpenSuccesses probes in turn before closing", async () => {
    const hb = await breaker({ consecutiveFailures: 1, cooldownMs: 1_000, halfOpenSuccesses: 2 });
    hb.attempt("a", refused);
    hb.clock.t = 1_000;
    hb.start("a");
    expect(await hb.plan()).toBe("bca");
    hb.finish("a", ok);
    expect(await hb.plan()).toBe("abc");
    hb.start("a");
    expect(await hb.plan()).toBe("bca");
    hb.finish("a", ok);
    hb.start("a");
    expect(await hb.plan()).toBe("abc");
  });

  it("frees the probe slot when a probe never reports back within cooldownMs", async () => {
    const hb = await breaker({ consecutiveFailures: 1, cooldownMs: 1_000 });
    hb.attempt("a", refused);
    hb.clock.t = 1_000;
    hb.start("a");
    hb.clock.t = 1_999;
    expect(await hb.plan()).toBe("bca");
    hb.clock.t = 2_000;
    expect(await hb.plan()).toBe("abc");
  });

  it("does not let a success that arrives during the cooldown close the circuit", async () => {
    const hb = await breaker({ consecutiveFailures: 1, cooldownMs: 1_000 });
    hb.start("a");
    hb.attempt("a", refused);
    hb.clock.t = 500;
    hb.finish("a", ok);
    expect(await hb.plan()).toBe("bca");
  });

  it("opens on the error ratio over the window once minRequests attempts were seen", async () => {
    const hb = await breaker({ consecutiveFailures: 0, errorRatio: 0.5, minRequests: 10, windowMs: 10_000 });
    for (let i = 0; i < 4; i++) {
      hb.attempt("a", ok);
      hb.attempt("a", serverError);
    }
    hb.attempt("a", ok);
    expect(await hb.plan()).toBe("abc");
    hb.attempt("a", serverError);
    expect(await hb.plan()).toBe("bca");
  });

  it("forgets failures that left the rolling window", async () => {
    const hb = await breaker({ consecutiveFailures: 0, errorRatio: 0.5, minRequests: 4, windowMs: 10_000 });
    hb.attempt("a", serverError, 3);
    hb.clock.t = 11_000;
    // Counting the old failures this would be 4 of 6 and open; within the window it is 1 of 3, under minRequests.
    hb.attempt("a", ok, 2);
    hb.attempt("a", serverError);
    expect(await hb.plan()).toBe("abc");
    hb.attempt("a", serverError);
    expect(await hb.plan()).toBe("bca");
  });

  it("cools a backend down for the 429's retry-after, then plans it again", async () => {
    const hb = await breaker({});
    hb.attempt("b", tooMany(5_000));
    expect(await hb.plan()).toBe("acb");
    hb.clock.t = 4_999;
    expect(await hb.plan()).toBe("acb");
    hb.clock.t = 5_000;
    expect(await hb.plan()).toBe("abc");
  });

  it("cools for rateLimitCooldownMs without a retry-after and caps a long one at maxRateLimitCooldownMs", async () => {
    const hb = await breaker({ rateLimitCooldownMs: 2_000, maxRateLimitCooldownMs: 10_000 });
    hb.attempt("a", tooMany());
    hb.attempt("b", tooMany(3_600_000));
    expect(await hb.plan()).toBe("cab");
    hb.clock.t = 2_000;
    expect(await hb.plan()).toBe("acb");
    hb.clock.t = 10_000;
    expect(await hb.plan()).toBe("abc");
  });

  it("cools on 429 without opening the circuit when 429 is not listed in on", async () => {
    const hb = await breaker({ on: ["5xx"], consecutiveFailures: 2, rateLimitCooldownMs: 100 });
    hb.attempt("a", tooMany(), 5);
    hb.clock.t = 100;
    expect(await hb.plan()).toBe("abc");
  });

  it("counts only the failures listed in on, and ignores unlisted kinds without an answer", async () => {
    const hb = await breaker({ on: ["connect"], consecutiveFailures: 3 });
    hb.attempt("a", serverError, 5);
    expect(await hb.plan()).toBe("abc");
    hb.attempt("b", refused);
    hb.attempt("b", { failure: "timeout" });
    hb.attempt("b", refused, 2);
    expect(await hb.plan()).toBe("acb");
  });

  it("can count a broken stream and a single status", async () => {
    const hb = await breaker({ on: ["stream", 502], consecutiveFailures: 1 });
    hb.attempt("a", { status: 200, failure: "stream" });
    hb.attempt("b", { status: 502, failure: "status" });
    hb.attempt("c", serverError);
    expect(await hb.plan()).toBe("cab");
  });

  it("rejects a status outside 400-599 and an unknown failure kind in on", async () => {
    await expect(breaker({ on: ["5xx", 700] })).rejects.toThrow(/on\/1/);
    await expect(breaker({ on: ["dns"] })).rejects.toThrow(/on\/0/);
  });

  it("logs when a circuit opens and when it closes, naming the backend", async () => {
    const lines: { level: string; obj: unknown; msg: string }[] = [];
    const capture = (level: string) => (obj: unknown, msg: string) => lines.push({ level, obj, msg });
    const log = { debug: capture("debug"), info: capture("info"), warn: capture("warn"), error: capture("error") } as unknown as Logger;
    const hb = await breaker({ consecutiveFailures: 1, cooldownMs: 1_000 }, ["a", "b"], log);
    hb.attempt("a", serverError);
    hb.clock.t = 1_000;
    hb.attempt("a", ok);
    expect(lines.map((l) => [l.level, (l.obj as { backend: string }).backend, l.msg])).toEqual([
      ["warn", "a", "health-breaker: circuit opened, backend kept back for 1000 ms"],
      ["info", "a", "health-breaker: circuit closed, backend is back in rotation"],
    ]);
  });
});
