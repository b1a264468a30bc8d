import { describe, expect, it } from "vitest";
import type { Attempt, Backend } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import selectWeighted from "../../../plugins/select-weighted/index.js";

function fleet(...ids: string[]): { backends: Map<string, Backend>; attempts: Attempt[] } {
  const backends = new Map(ids.map((id) => [id, createTestBackend(id)]));
  return { backends, attempts: ids.map((id) => ({ backend: backends.get(id)!, model: "m" })) };
}

async function planner(ids: string[], config: unknown) {
  const { backends, attempts } = fleet(...ids);
  const { hooks } = await createTestStep(selectWeighted, config, { backends });
  const exchange = createTestExchange();
  const plan = (list: Attempt[] = attempts) => hooks.plan.promise(list, exchange);
  return { plan, attempts };
}

describe("select-weighted", () => {
  it("picks nginx's sequence a a b a c a a for weights 5,1,1", async () => {
    const { plan } = await planner(["a", "b", "c"], { weights: { a: 5, b: 1, c: 1 } });
    const firsts: string[] = [];
    for (let i = 0; i < 14; i++) firsts.push((await plan())[0]!.backend.id);
    expect(firsts.join(" ")).toBe("a a b a c a a a a b a c a a");
  });

  it("splits 3:1 exactly over full cycles and never strays more than one pick from the ideal", async () => {
    const { plan } = await planner(["primary", "spare"], { weights: { primary: 3, spare: 1 } });
    let primary = 0;
    let worstDrift = 0;
    const total = 4000;
    for (let i = 1; i <= total; i++) {
      if ((await plan())[0]!.backend.id === "primary") primary++;
      worstDrift = Math.max(worstDrift, Math.abs(primary - (i * 3) / 4));
    }
    console.log(`select-weighted 3:1 over ${total}: primary=${primary} spare=${total - primary} worst drift=${worstDrift}`);
    expect(primary).toBe(3000);
    expect(worstDrift).toBeLessThanOrEqual(1);
  });

  it("puts the chosen backend first and the rest by descending weight, ties in plan order", async () => {
    const { plan } = await planner(["a", "b", "c", "d"], { weights: { a: 1, b: 1, c: 5, d: 2 } });
    const orders: string[] = [];
    for (let i = 0; i < 9; i++) orders.push((await plan()).map((x) => x.backend.id).join(""));
    // One full cycle (total weight 9): c five times, d twice, a and b once; fallbacks always c, d, a, b minus the chosen.
    expect(orders).toEqual(["cdab", "dcab", "cdab", "acdb", "cdab", "bcda", "cdab", "dcab", "cdab"]);
  });

  it("weighs unlisted backends 1", async () => {
    const { plan } = await planner(["a", "b"], { weights: { a: 2 } });
    const firsts: string[] = [];
    for (let i = 0; i < 6; i++) firsts.push((await plan())[0]!.backend.id);
    expect(firsts.filter((id) => id === "a")).toHaveLength(4);
  });

  it("never picks a weight-0 backend first while a weighted one is planned, but keeps it as a fallback", async () => {
    const { plan, attempts } = await planner(["spare", "main"], { weights: { spare: 0, main: 1 } });
    for (let i = 0; i < 5; i++) expect((await plan()).map((x) => x.backend.id)).toEqual(["main", "spare"]);
    expect((await plan([attempts[0]!])).map((x) => x.backend.id)).toEqual(["spare"]);
  });

  it("shares traffic among the backends present when an earlier step filtered one out", async () => {
    const { plan, attempts } = await planner(["a", "b", "c"], { weights: { a: 2, b: 1, c: 1 } });
    const withoutA = attempts.slice(1);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 100; i++) counts[(await plan(withoutA))[0]!.backend.id]!++;
    expect(counts).toEqual({ a: 0, b: 50, c: 50 });
  });

  it("counts a backend listed twice in one plan once", async () => {
    const { plan, attempts } = await planner(["a", "b"], {});
    const doubled = [attempts[0]!, { backend: attempts[0]!.backend, model: "m-mini" }, attempts[1]!];
    const firsts: string[] = [];
    for (let i = 0; i < 10; i++) {
      const out = await plan(doubled);
      expect(out).toHaveLength(3);
      firsts.push(out[0]!.backend.id);
    }
    expect(firsts.filter((id) => id === "a")).toHaveLength(5);
  });

  it("returns a new array and leaves the plan it received untouched", async () => {
    const { plan, attempts } = await planner(["a", "b"], { weights: { b: 3 } });
    const before = attempts.slice();
    const out = await plan();
    expect(out).not.toBe(attempts);
    expect(attempts).toEqual(before);
  });

  it("rejects a weight for a backend the pipeline does not have, naming it", async () => {
    const { backends } = fleet("a", "b");
    await expect(createTestStep(selectWeighted, { weights: { a: 1, typo: 2 } }, { backends })).rejects.toMatchObject({
      code: "invalid_config",
      param: "/weights/typo",
      message: expect.stringContaining('"typo"'),
    });
  });

  it("rejects a negative or fractional weight at config check", async () => {
    const { backends } = fleet("a");
    await expect(createTestStep(selectWeighted, { weights: { a: -1 } }, { backends })).rejects.toThrow(/weights\/a/);
    await expect(createTestStep(selectWeighted, { weights: { a: 1.5 } }, { backends })).rejects.toThrow(/weights\/a/);
  });
});
