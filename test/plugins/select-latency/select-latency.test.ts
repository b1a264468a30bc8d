import { describe, expect, it } from "vitest";
import type { Attempt, AttemptOutcome, Backend } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import { selectLatencyPlugin } from "../../../plugins/select-latency/index.js";

async function latency(ids: string[], config: unknown = {}, random: () => number = Math.random) {
  const backends = new Map<string, Backend>(ids.map((id) => [id, createTestBackend(id)]));
  const attempts: Attempt[] = ids.map((id) => ({ backend: backends.get(id)!, model: "m" }));
  const clock = { t: 1_000 };
  const { hooks } = await createTestStep(selectLatencyPlugin({ now: () => clock.t, random }), config, { backends });
  const exchange = createTestExchange();
  const at = (id: string) => attempts.find((x) => x.backend.id === id)!;
  const finish = (id: string, outcome: Partial<AttemptOutcome>) =>
    hooks.attemptFinished.call(exchange, { backend: id, model: "m", status: 200, latencyMs: 1_000, ...outcome });
  return {
    clock,
    plan: async (list: Attempt[] = attempts) => (await hooks.plan.promise(list, exchange)).map((x) => x.backend.id),
    start: (id: string) => hooks.attemptStarted.call(exchange, at(id)),
    finish,
    /** One whole attempt on `id` with this time to first byte. */
    sample: (id: string, ttfbMs: number, outcome: Partial<AttemptOutcome> = {}) => {
      hooks.attemptStarted.call(exchange, at(id));
      finish(id, { ttfbMs, ...outcome });
    },
  };
}

describe("select-latency", () => {
  it("explores unmeasured backends first, one request each", async () => {
    const lb = await latency(["a", "b", "c"]);
    const firsts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = (await lb.plan())[0]!;
      lb.start(id);
      firsts.push(id);
    }
    expect(firsts).toEqual(["a", "b", "c"]);
  });

  it("puts the faster of two backends first once both are measured", async () => {
    const lb = await latency(["slow", "fast"]);
    lb.sample("slow", 100);
    lb.sample("fast", 20);
    for (let i = 0; i < 20; i++) expect(await lb.plan()).toEqual(["fast", "slow"]);
  });

  it("uses the whole attempt's latency when no headers arrived", async () => {
    const lb = await latency(["a", "b"]);
    lb.sample("a", 50);
    lb.finish("b", { status: undefined, ttfbMs: undefined, failure: undefined, latencyMs: 400 });
    expect(await lb.plan()).toEqual(["a", "b"]);
  });

  it("favours the fastest of three by power of two choices and never picks the slowest first", async () => {
    const lb = await latency(["slow", "fast", "mid"]);
    lb.sample("slow", 300);
    lb.sample("fast", 40);
    lb.sample("mid", 120);
    const counts: Record<string, number> = { slow: 0, fast: 0, mid: 0 };
    const n = 3_000;
    for (let i = 0; i < n; i++) counts[(await lb.plan())[0]!]!++;
    console.log(`select-latency P2C over ${n} (ttfb slow=300 fast=40 mid=120): ${JSON.stringify(counts)} (ideal 0 / 2000 / 1000)`);
    expect(counts.slow).toBe(0);
    expect(Math.abs(counts.fast! / n - 2 / 3)).toBeLessThan(0.06);
    expect(Math.abs(counts.mid! / n - 1 / 3)).toBeLessThan(0.06);
  });

  it("prices requests in flight: a fast backend with a queue loses to an idle slower one", async () => {
    const lb = await latency(["a", "b"]);
    lb.sample("a", 100);
    lb.sample("b", 20);
    for (let i = 0; i < 5; i++) lb.start("b");
    expect((await lb.plan())[0]).toBe("a");
  });

  it("takes a slow sample at once and forgets it over decayMs", async () => {
    const lb = await latency(["a", "b"], { decayMs: 1_000 });
    lb.sample("a", 100);
    lb.sample("b", 20);
    lb.sample("b", 900);
    expect((await lb.plan())[0]).toBe("a");
    // b keeps answering in 20 ms: with a 1 s time constant the 900 ms peak fades within a few seconds.
    for (let s = 0; s < 5; s++) {
      lb.clock.t += 1_000;
      lb.sample("b", 20);
    }
    lb.sample("a", 100);
    expect((await lb.plan())[0]).toBe("b");
  });

  it("charges a failure without an answer the penalty, so a backend that fails fast does not look fast", async () => {
    const lb = await latency(["a", "b"], { failurePenaltyMs: 5_000 });
    lb.sample("a", 200);
    lb.finish("b", { status: undefined, failure: "connect", latencyMs: 2 });
    expect(await lb.plan()).toEqual(["a", "b"]);
    lb.sample("a", 200, { status: 400, failure: "status" });
    expect((await lb.plan())[0]).toBe("a");
  });

  it("lets an idle backend's estimate decay so that it is tried again", async () => {
    const lb = await latency(["a", "b"], { decayMs: 1_000, failurePenaltyMs: 5_000 });
    lb.sample("a", 200);
    lb.sample("b", 5_000, { status: 503, failure: "status" });
    expect((await lb.plan())[0]).toBe("a");
    lb.clock.t += 4_000;
    lb.sample("a", 200);
    expect((await lb.plan())[0]).toBe("b");
  });
});
