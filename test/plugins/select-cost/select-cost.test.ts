import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Attempt, Backend } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import selectCost from "../../../plugins/select-cost/index.js";

// USD per 1M tokens. Blended at the default 0.3 output per input:
// big 10 + 0.3*30 = 19, mid 3 + 0.3*15 = 7.5, small 1 + 0.3*4 = 2.2, chatty 0.5 + 0.3*20 = 6.5, twin-* 1 + 0.3*4 = 2.2.
const PRICING = {
  updated: "2026-01-01",
  currency: "USD",
  models: {
    big: { input: 10, output: 30 },
    mid: { input: 3, output: 15 },
    small: { input: 1, output: 4 },
    chatty: { input: 0.5, output: 20 },
    "twin-*": { input: 1, output: 4 },
  },
};

let baseDir: string;
beforeAll(async () => {
  baseDir = await mkdtemp(join(tmpdir(), "select-cost-"));
  await writeFile(join(baseDir, "pricing.json"), JSON.stringify(PRICING));
  await writeFile(join(baseDir, "broken.json"), JSON.stringify({ updated: "2026-01-01", currency: "EUR", models: {} }));
});

const backends = new Map<string, Backend>(["p", "q", "r", "s", "t"].map((id) => [id, createTestBackend(id)]));

/** `spec` is "backend:model" per attempt; the result the same way. */
async function plan(config: Record<string, unknown>, ...spec: string[]): Promise<string[]> {
  const { hooks } = await createTestStep(selectCost, { pricingFile: "./pricing.json", ...config }, { backends, baseDir });
  const attempts: Attempt[] = spec.map((s) => {
    const [id, model] = s.split(":");
    return { backend: backends.get(id!)!, model: model! };
  });
  return (await hooks.plan.promise(attempts, createTestExchange())).map((a) => `${a.backend.id}:${a.model}`);
}

describe("select-cost", () => {
  it("orders attempts cheapest first by each attempt's own model", async () => {
    expect(await plan({}, "p:big", "q:mid", "r:small")).toEqual(["r:small", "q:mid", "p:big"]);
  });

  it("weighs output prices by outputPerInput: cheap input with dear output wins only for prompt-heavy traffic", async () => {
    // 0.3: chatty 6.5 < mid 7.5. 1: chatty 20.5 > mid 18.
    expect(await plan({}, "q:mid", "p:chatty")).toEqual(["p:chatty", "q:mid"]);
    expect(await plan({ outputPerInput: 1 }, "q:mid", "p:chatty")).toEqual(["q:mid", "p:chatty"]);
    // 0: input prices alone.
    expect(await plan({ outputPerInput: 0 }, "r:small", "p:chatty")).toEqual(["p:chatty", "r:small"]);
  });

  it("prices by glob entries too and keeps plan order between equal prices", async () => {
    expect(await plan({}, "q:twin-a", "p:big", "r:small", "s:twin-b")).toEqual(["q:twin-a", "r:small", "s:twin-b", "p:big"]);
  });

  it("puts attempts with no price last, in plan order", async () => {
    expect(await plan({}, "p:mystery", "q:big", "r:unknown", "s:small")).toEqual(["s:small", "q:big", "p:mystery", "r:unknown"]);
  });

  it("drops attempts with no price when unpriced is drop, down to an empty plan", async () => {
    expect(await plan({ unpriced: "drop" }, "p:mystery", "q:big", "r:small")).toEqual(["r:small", "q:big"]);
    expect(await plan({ unpriced: "drop" }, "p:mystery")).toEqual([]);
  });

  it("leaves a single priced attempt and an empty plan alone", async () => {
    expect(await plan({}, "p:big")).toEqual(["p:big"]);
    expect(await plan({})).toEqual([]);
  });

  it("fails the load on a missing or invalid pricing file, naming it", async () => {
    await expect(plan({ pricingFile: "./nope.json" })).rejects.toThrow(/pricing file .*nope\.json: cannot read it \(no such file\)/);
    await expect(plan({ pricingFile: "./broken.json" })).rejects.toThrow(/pricing file .*broken\.json: .*currency/);
  });

  it("rejects a bad config", async () => {
    await expect(createTestStep(selectCost, {}, { backends, baseDir })).rejects.toThrow('missing required property "pricingFile"');
    await expect(plan({ outputPerInput: -1 })).rejects.toThrow("/outputPerInput");
    await expect(plan({ unpriced: "first" })).rejects.toThrow("/unpriced");
  });
});
