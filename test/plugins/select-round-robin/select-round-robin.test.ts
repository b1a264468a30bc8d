import { describe, expect, it } from "vitest";
import type { Attempt } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import selectRoundRobin from "../../../plugins/select-round-robin/index.js";

const attemptsFor = (...ids: string[]): Attempt[] => ids.map((id) => ({ backend: createTestBackend(id), model: "m" }));
const ids = (attempts: Attempt[]) => attempts.map((a) => a.backend.id);

describe("select-round-robin", () => {
  it("starts successive requests at successive backends and keeps the rest as fallbacks in order", async () => {
    const { hooks } = await createTestStep(selectRoundRobin);
    const plans = [];
    for (let i = 0; i < 4; i++) plans.push(ids(await hooks.plan.promise(attemptsFor("a", "b", "c"), createTestExchange())));
    expect(plans).toEqual([
      ["a", "b", "c"],
      ["b", "c", "a"],
      ["c", "a", "b"],
      ["a", "b", "c"],
    ]);
  });

  it("spreads N requests evenly over the backends", async () => {
    const { hooks } = await createTestStep(selectRoundRobin);
    const firsts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const [first] = ids(await hooks.plan.promise(attemptsFor("a", "b", "c"), createTestExchange()));
      firsts.set(first!, (firsts.get(first!) ?? 0) + 1);
    }
    expect(Object.fromEntries(firsts)).toEqual({ a: 100, b: 100, c: 100 });
  });

  it("keeps a separate rotation for each distinct candidate set", async () => {
    const { hooks } = await createTestStep(selectRoundRobin);
    const plan = async (...backends: string[]) => ids(await hooks.plan.promise(attemptsFor(...backends), createTestExchange()))[0];
    expect(await plan("a", "b")).toBe("a");
    expect(await plan("x", "y", "z")).toBe("x");
    expect(await plan("a", "b")).toBe("b");
    expect(await plan("x", "y", "z")).toBe("y");
    expect(await plan("a", "b")).toBe("a");
  });

  it("leaves empty and single-backend plans as they are", async () => {
    const { hooks } = await createTestStep(selectRoundRobin);
    expect(await hooks.plan.promise([], createTestExchange())).toEqual([]);
    expect(ids(await hooks.plan.promise(attemptsFor("only"), createTestExchange()))).toEqual(["only"]);
    expect(ids(await hooks.plan.promise(attemptsFor("only"), createTestExchange()))).toEqual(["only"]);
  });

  it("rejects config it does not know", async () => {
    await expect(createTestStep(selectRoundRobin, { weights: {} })).rejects.toThrow('unknown property "weights"');
  });
});
