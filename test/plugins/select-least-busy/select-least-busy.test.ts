import { describe, expect, it } from "vitest";
import type { Attempt, AttemptOutcome, Backend } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import selectLeastBusy from "../../../plugins/select-least-busy/index.js";

async function leastBusy(...ids: string[]) {
  const backends = new Map<string, Backend>(ids.map((id) => [id, createTestBackend(id)]));
  const attempts: Attempt[] = ids.map((id) => ({ backend: backends.get(id)!, model: "m" }));
  const { hooks } = await createTestStep(selectLeastBusy, {}, { backends });
  const exchange = createTestExchange();
  const at = (id: string) => attempts.find((x) => x.backend.id === id)!;
  return {
    attempts,
    plan: async (list: Attempt[] = attempts) => (await hooks.plan.promise(list, exchange)).map((x) => x.backend.id),
    start: (id: string) => hooks.attemptStarted.call(exchange, at(id)),
    finish: (id: string, outcome: Partial<AttemptOutcome> = {}) =>
      hooks.attemptFinished.call(exchange, { backend: id, model: "m", status: 200, latencyMs: 5, ...outcome }),
  };
}

describe("select-least-busy", () => {
  it("prefers the backend with fewer requests in flight and orders the rest by load", async () => {
    const lb = await leastBusy("a", "b", "c");
    lb.start("a");
    lb.start("a");
    lb.start("b");
    expect(await lb.plan()).toEqual(["c", "b", "a"]);
    lb.start("c");
    lb.start("c");
    expect(await lb.plan()).toEqual(["b", "a", "c"]);
  });

  it("frees a backend when its attempt finishes, failed or relayed", async () => {
    const lb = await leastBusy("a", "b");
    lb.start("a");
    lb.start("b");
    lb.start("b");
    expect((await lb.plan())[0]).toBe("a");
    lb.finish("b");
    lb.finish("b", { failure: "timeout", status: undefined });
    expect((await lb.plan())[0]).toBe("b");
  });

  it("takes turns among equally busy backends", async () => {
    const lb = await leastBusy("a", "b", "c");
    const firsts: string[] = [];
    for (let i = 0; i < 6; i++) firsts.push((await lb.plan())[0]!);
    expect(firsts.join("")).toBe("abcabc");
    lb.start("a");
    const tied: string[] = [];
    for (let i = 0; i < 4; i++) tied.push((await lb.plan())[0]!);
    expect(tied.join("")).toBe("bcbc");
  });

  it("routes a simulated burst so that no backend runs more than one request above another", async () => {
    const lb = await leastBusy("a", "b", "c");
    const open: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = (await lb.plan())[0]!;
      lb.start(id);
      open.push(id);
      if (i % 4 === 3) lb.finish(open.shift()!);
    }
    const load = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (const id of open) load[id]!++;
    console.log(`select-least-busy burst of 30 (every 4th finishing): in flight ${JSON.stringify(load)}`);
    expect(Math.max(...Object.values(load)) - Math.min(...Object.values(load))).toBeLessThanOrEqual(1);
  });

  it("never counts below zero when a finish arrives without a start", async () => {
    const lb = await leastBusy("a", "b");
    lb.finish("a");
    lb.finish("a");
    lb.start("a");
    lb.start("b");
    lb.start("b");
    expect((await lb.plan())[0]).toBe("a");
  });

  it("only weighs the backends present in the plan", async () => {
    const lb = await leastBusy("a", "b", "c");
    lb.start("a");
    expect(await lb.plan([lb.attempts[0]!, lb.attempts[1]!])).toEqual(["b", "a"]);
    expect(await lb.plan([lb.attempts[0]!])).toEqual(["a"]);
  });
});
