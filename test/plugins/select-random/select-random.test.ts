import { describe, expect, it } from "vitest";
import type { Attempt, Backend } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import selectRandom, { selectRandomPlugin } from "../../../plugins/select-random/index.js";

function fleet(...ids: string[]): { backends: Map<string, Backend>; attempts: Attempt[] } {
  const backends = new Map(ids.map((id) => [id, createTestBackend(id)]));
  return { backends, attempts: ids.map((id) => ({ backend: backends.get(id)!, model: "m" })) };
}

async function firstPicks(plugin: typeof selectRandom, ids: string[], config: unknown, requests: number): Promise<Record<string, number>> {
  const { backends, attempts } = fleet(...ids);
  const { hooks } = await createTestStep(plugin, config, { backends });
  const exchange = createTestExchange();
  const counts: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
  for (let i = 0; i < requests; i++) counts[(await hooks.plan.promise(attempts, exchange))[0]!.backend.id]!++;
  return counts;
}

describe("select-random", () => {
  // Bounds are 7 standard deviations of a binomial share: a false failure is a ~1e-12 event.
  it("picks weighted 3:1 within a statistical bound", async () => {
    const n = 100_000;
    const counts = await firstPicks(selectRandom, ["primary", "spare"], { weights: { primary: 3, spare: 1 } }, n);
    const share = counts.primary! / n;
    const bound = 7 * Math.sqrt((0.75 * 0.25) / n);
    console.log(`select-random 3:1 over ${n}: primary=${counts.primary} spare=${counts.spare} share=${share.toFixed(4)} (0.75 ± ${bound.toFixed(4)})`);
    expect(Math.abs(share - 0.75)).toBeLessThan(bound);
  });

  it("picks uniformly without weights, within a statistical bound", async () => {
    const n = 60_000;
    const counts = await firstPicks(selectRandom, ["a", "b", "c"], {}, n);
    const bound = 7 * Math.sqrt(((1 / 3) * (2 / 3)) / n);
    console.log(`select-random uniform over ${n}: ${JSON.stringify(counts)} (each 0.3333 ± ${bound.toFixed(4)})`);
    for (const id of ["a", "b", "c"]) expect(Math.abs(counts[id]! / n - 1 / 3)).toBeLessThan(bound);
  });

  it("keeps the other backends in plan order behind the pick", async () => {
    const { backends, attempts } = fleet("a", "b", "c", "d");
    const { hooks } = await createTestStep(selectRandomPlugin({ random: () => 0.6 }), {}, { backends });
    expect((await hooks.plan.promise(attempts, createTestExchange())).map((x) => x.backend.id)).toEqual(["c", "a", "b", "d"]);
  });

  it("maps the random draw onto the weights of the backends in the plan", async () => {
    const { backends, attempts } = fleet("a", "b", "c");
    let next = 0;
    const { hooks } = await createTestStep(selectRandomPlugin({ random: () => next }), { weights: { a: 1, b: 0, c: 3 } }, { backends });
    const first = async (r: number, list = attempts) => {
      next = r;
      return (await hooks.plan.promise(list, createTestExchange()))[0]!.backend.id;
    };
    expect(await first(0)).toBe("a");
    expect(await first(0.24)).toBe("a");
    expect(await first(0.25)).toBe("c");
    expect(await first(0.999999)).toBe("c");
    // Without c, a takes the whole share; b (weight 0) never goes first while a weighted backend is planned.
    expect(await first(0.9, [attempts[1]!, attempts[0]!])).toBe("a");
    expect((await hooks.plan.promise([attempts[1]!], createTestExchange()))[0]!.backend.id).toBe("b");
  });

  it("counts a backend listed twice in one plan once", async () => {
    const { backends, attempts } = fleet("a", "b");
    let next = 0;
    const { hooks } = await createTestStep(selectRandomPlugin({ random: () => next }), {}, { backends });
    const doubled = [attempts[0]!, { backend: attempts[0]!.backend, model: "m-mini" }, attempts[1]!];
    next = 0.49;
    expect((await hooks.plan.promise(doubled, createTestExchange()))[0]!.backend.id).toBe("a");
    next = 0.5;
    const out = await hooks.plan.promise(doubled, createTestExchange());
    expect(out.map((x) => `${x.backend.id}:${x.model}`)).toEqual(["b:m", "a:m", "a:m-mini"]);
  });

  it("keeps the plan's order when every planned backend weighs 0", async () => {
    const { backends, attempts } = fleet("a", "b");
    const { hooks } = await createTestStep(selectRandom, { weights: { a: 0, b: 0 } }, { backends });
    const out = await hooks.plan.promise(attempts, createTestExchange());
    expect(out.map((x) => x.backend.id)).toEqual(["a", "b"]);
    expect(out).not.toBe(attempts);
  });

  it("rejects a weight for a backend the pipeline does not have, naming it", async () => {
    const { backends } = fleet("a");
    await expect(createTestStep(selectRandom, { weights: { ghost: 1 } }, { backends })).rejects.toMatchObject({
      code: "invalid_config",
      param: "/weights/ghost",
      message: expect.stringContaining('"ghost"'),
    });
  });
});
