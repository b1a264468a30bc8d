import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestExchange, createTestStep } from "../../../testkit/index.js";
import cost from "../../../plugins/cost/index.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cost-"));
  await writeFile(
    join(dir, "pricing.json"),
    JSON.stringify({
      updated: "2026-01-01",
      currency: "USD",
      models: {
        "big-*": { input: 10, output: 30, cachedRead: 1 },
        "small": { input: 0.1, output: 0.2 },
        "long-*": { input: 1, output: 10, cachedRead: 0.1, tiers: [{ aboveInputTokens: 200_000, input: 2, output: 20, cachedRead: 0.2 }] },
      },
    }),
  );
});

const step = (config: Record<string, unknown> = {}) => createTestStep(cost, { pricingFile: "./pricing.json", ...config }, { baseDir: dir });

describe("cost", () => {
  it("prices usage by the upstream model and sets costUsd and the header", async () => {
    const { hooks } = await step();
    const ex = createTestExchange({ model: "alias", upstreamModel: "big-1", usage: { inputTokens: 1000, outputTokens: 100, cachedReadTokens: 500 } });
    hooks.usage.call(ex);
    // 500 plain input at 10, 500 cached at 1, 100 output at 30.
    expect(ex.costUsd).toBe(0.0085);
    expect(ex.responseHeaders["x-switchyard-cost-usd"]).toBe("0.0085");
    expect(ex.notes).toEqual([]);
  });

  it("falls back to the client's model when the upstream model has no price", async () => {
    const { hooks } = await step();
    const ex = createTestExchange({ model: "small", upstreamModel: "small-2026-01", usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 } });
    hooks.usage.call(ex);
    expect(ex.costUsd).toBe(0.3);
    expect(ex.notes).toEqual([]);
  });

  it("rounds to 1e-9 USD and writes the header in fixed notation", async () => {
    const { hooks } = await step();
    const ex = createTestExchange({ upstreamModel: "small", usage: { inputTokens: 1, outputTokens: 0 } });
    hooks.usage.call(ex);
    expect(ex.costUsd).toBe(1e-7);
    expect(ex.responseHeaders["x-switchyard-cost-usd"]).toBe("0.0000001");

    const tiny = createTestExchange({ upstreamModel: "small", usage: { inputTokens: 3, outputTokens: 1 } });
    hooks.usage.call(tiny);
    expect(tiny.costUsd).toBe(5e-7);
  });

  it("sets costUsd null and a note, never 0, for a model without a price", async () => {
    const { hooks } = await step();
    const ex = createTestExchange({ model: "mystery", upstreamModel: "mystery-v2", usage: { inputTokens: 10, outputTokens: 10 } });
    hooks.usage.call(ex);
    expect(ex.costUsd).toBeNull();
    expect(ex.notes).toEqual(["no price for model mystery-v2"]);
    expect(ex.responseHeaders).not.toHaveProperty("x-switchyard-cost-usd");
  });

  it("leaves headers alone once they were sent (streams) but still sets costUsd", async () => {
    const { hooks } = await step();
    const ex = createTestExchange({ upstreamModel: "small", headersSent: true, usage: { inputTokens: 10, outputTokens: 10 } });
    hooks.usage.call(ex);
    expect(ex.costUsd).toBe(3e-6);
    expect(ex.responseHeaders).toEqual({});
  });

  it("sends no header when header is off", async () => {
    const { hooks } = await step({ header: false });
    const ex = createTestExchange({ upstreamModel: "small", usage: { inputTokens: 10, outputTokens: 10 } });
    hooks.usage.call(ex);
    expect(ex.costUsd).toBe(3e-6);
    expect(ex.responseHeaders).toEqual({});
  });

  it.each([
    ["at the threshold: base rates", { inputTokens: 200_000, outputTokens: 1000 }, 0.21],
    ["above it: the tier's rates on every token", { inputTokens: 300_000, outputTokens: 1000 }, 0.62],
    ["above it with cache reads: the tier's cachedRead", { inputTokens: 300_000, outputTokens: 0, cachedReadTokens: 100_000 }, 0.42],
  ])("prices long-context tiers by the whole request's input: %s", async (_name, usage, expected) => {
    const { hooks } = await step();
    const ex = createTestExchange({ upstreamModel: "long-1", usage });
    hooks.usage.call(ex);
    expect(ex.costUsd).toBe(expected);
    expect(ex.responseHeaders["x-switchyard-cost-usd"]).toBe(String(expected));
  });

  it("does nothing without usage", async () => {
    const { hooks } = await step();
    const ex = createTestExchange({ upstreamModel: "small" });
    hooks.usage.call(ex);
    expect(ex.costUsd).toBeUndefined();
  });

  it("resolves pricingFile against the pipeline folder and fails the load naming a missing file", async () => {
    await expect(createTestStep(cost, { pricingFile: "./nope.json" }, { baseDir: dir })).rejects.toThrow(`pricing file ${join(dir, "nope.json")}: cannot read it`);
    await expect(createTestStep(cost, {}, { baseDir: dir })).rejects.toThrow('missing required property "pricingFile"');
  });

  it("prices the mock models with the shipped pricing file", async () => {
    const { hooks } = await createTestStep(cost, { pricingFile: "./pricing.json" }, { baseDir: join(import.meta.dirname, "../../../pipelines") });
    const ex = createTestExchange({ upstreamModel: "mock-fast", usage: { inputTokens: 100, outputTokens: 50 } });
    hooks.usage.call(ex);
    expect(ex.costUsd).toBeGreaterThan(0);
  });
});
