import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { costOf, createPriceTable, loadPricing, ratesFor, type ModelPrice } from "../../../lib/pricing/price-table.js";
import type { IrUsage } from "../../../core/contract/ir.js";

const shipped = join(import.meta.dirname, "../../../pipelines/pricing.json");

function table(models: Record<string, ModelPrice>) {
  return createPriceTable({ updated: "2026-01-01", currency: "USD", models }, "test");
}

describe("costOf", () => {
  // Round prices per 1M tokens, so 1M tokens of a kind cost exactly its price.
  const full: ModelPrice = { input: 2, output: 8, cachedRead: 0.5, cacheWrite: 3, reasoning: 16 };
  const plain: ModelPrice = { input: 2, output: 8 };
  const M = 1_000_000;

  it.each<[string, IrUsage, ModelPrice, number]>([
    ["plain input only", { inputTokens: M, outputTokens: 0 }, full, 2],
    ["plain output only", { inputTokens: 0, outputTokens: M }, full, 8],
    ["cached-read tokens at cachedRead, taken out of input", { inputTokens: M, outputTokens: 0, cachedReadTokens: M }, full, 0.5],
    ["cache-write tokens at cacheWrite, taken out of input", { inputTokens: M, outputTokens: 0, cacheWriteTokens: M }, full, 3],
    ["reasoning tokens at reasoning, taken out of output", { inputTokens: 0, outputTokens: M, reasoningTokens: M }, full, 16],
    ["cached-read without a cachedRead price falls back to input", { inputTokens: M, outputTokens: 0, cachedReadTokens: M / 2 }, plain, 2],
    ["cache-write without a cacheWrite price falls back to input", { inputTokens: M, outputTokens: 0, cacheWriteTokens: M / 2 }, plain, 2],
    ["reasoning without a reasoning price falls back to output", { inputTokens: 0, outputTokens: M, reasoningTokens: M / 2 }, plain, 8],
    [
      "every kind at once is charged once each",
      { inputTokens: 4 * M, outputTokens: 3 * M, cachedReadTokens: M, cacheWriteTokens: M, reasoningTokens: M },
      full,
      2 * 2 + 0.5 + 3 + 2 * 8 + 16,
    ],
    ["zero usage costs zero", { inputTokens: 0, outputTokens: 0 }, full, 0],
  ])("%s", (_name, usage, price, expected) => {
    expect(costOf(usage, price)).toBeCloseTo(expected, 12);
  });

  it("never double-counts: with every special price equal to the plain one, cost equals plain totals", () => {
    const same: ModelPrice = { input: 3, output: 15, cachedRead: 3, cacheWrite: 3, reasoning: 15 };
    const usage: IrUsage = { inputTokens: 1234, outputTokens: 567, cachedReadTokens: 200, cacheWriteTokens: 100, reasoningTokens: 300 };
    expect(costOf(usage, same)).toBeCloseTo((1234 * 3 + 567 * 15) / 1e6, 15);
  });

  it("clamps a backend that reports more cached tokens than input instead of charging negative", () => {
    const cost = costOf({ inputTokens: 10, outputTokens: 0, cachedReadTokens: 50 }, full);
    expect(cost).toBeCloseTo((50 * 0.5) / 1e6, 15);
    expect(cost).toBeGreaterThan(0);
  });

  it("prices a realistic Claude call with cache reads and writes", () => {
    const sonnet: ModelPrice = { input: 3, output: 15, cachedRead: 0.3, cacheWrite: 3.75 };
    // 1000 fresh + 5000 read + 2000 written input tokens, 400 output tokens.
    const usage: IrUsage = { inputTokens: 8000, outputTokens: 400, cachedReadTokens: 5000, cacheWriteTokens: 2000 };
    expect(costOf(usage, sonnet)).toBeCloseTo((1000 * 3 + 5000 * 0.3 + 2000 * 3.75 + 400 * 15) / 1e6, 15);
  });
});

describe("costOf with long-context tiers", () => {
  const M = 1_000_000;
  const K = 1000;
  // Gemini 2.5 Pro's shape: one tier above 200k, plus a made-up second one to test the choice.
  const tiered: ModelPrice = {
    input: 1, output: 10, cachedRead: 0.1,
    tiers: [
      { aboveInputTokens: 500 * K, input: 4, output: 40 },
      { aboveInputTokens: 200 * K, input: 2, output: 20, cachedRead: 0.2 },
    ],
  };

  it.each<[string, IrUsage, number]>([
    ["below the first threshold pays the base rates", { inputTokens: 100 * K, outputTokens: 10 * K }, (100 * K * 1 + 10 * K * 10) / M],
    ["exactly at the threshold is not above it: base rates", { inputTokens: 200 * K, outputTokens: 0 }, (200 * K * 1) / M],
    ["one token above pays the tier on every token, output included", { inputTokens: 200 * K + 1, outputTokens: 10 * K }, ((200 * K + 1) * 2 + 10 * K * 20) / M],
    ["the highest threshold below the input wins, whatever the order", { inputTokens: 600 * K, outputTokens: K }, (600 * K * 4 + K * 40) / M],
    ["cached-read tokens count toward the threshold and take the tier's cachedRead", { inputTokens: 250 * K, outputTokens: 0, cachedReadTokens: 150 * K }, (100 * K * 2 + 150 * K * 0.2) / M],
    ["a tier without cachedRead charges cached reads at the tier's input, not the base cachedRead", { inputTokens: 600 * K, outputTokens: 0, cachedReadTokens: 100 * K }, (600 * K * 4) / M],
    ["cache-write tokens count toward the threshold too", { inputTokens: 210 * K, outputTokens: 0, cacheWriteTokens: 20 * K }, (210 * K * 2) / M],
  ])("%s", (_name, usage, expected) => {
    expect(costOf(usage, tiered)).toBeCloseTo(expected, 12);
  });

  it("ratesFor returns the base price object itself when no tier applies", () => {
    expect(ratesFor(tiered, 10)).toBe(tiered);
    expect(ratesFor(tiered, 300 * K)).toBe(tiered.tiers![1]);
  });

  it("rejects two tiers with one threshold and a tier without output, naming the model", () => {
    const bad = (price: unknown) => () => createPriceTable({ updated: "2026-01-01", currency: "USD", models: { "pro/*": price } }, "x.json");
    const tier = { aboveInputTokens: 200_000, input: 2, output: 20 };
    expect(bad({ input: 1, output: 1, tiers: [tier, { ...tier, input: 3 }] })).toThrow("pricing file x.json: /models/pro~1*/tiers has two tiers above 200000 input tokens");
    expect(bad({ input: 1, output: 1, tiers: [{ aboveInputTokens: 1, input: 2 }] })).toThrow('missing required property "output"');
    expect(bad({ input: 1, output: 1, tiers: [] })).toThrow("/tiers");
    expect(bad({ input: 1, output: 1, tiers: [{ ...tier, above: 1 }] })).toThrow('unknown property "above"');
  });
});

describe("priceFor", () => {
  const a = { input: 1, output: 1 };
  const b = { input: 2, output: 2 };
  const c = { input: 3, output: 3 };

  it("prefers the exact name over any glob", () => {
    const t = table({ "gpt-4o*": a, "gpt-4o": b });
    expect(t.priceFor("gpt-4o")).toBe(b);
    expect(t.priceFor("gpt-4o-2024-08-06")).toBe(a);
  });

  it("prefers the glob with the longest literal prefix, whatever the file order", () => {
    const t = table({ "claude-opus-4*": a, "claude-opus-4-5*": b, "claude-*": c });
    expect(t.priceFor("claude-opus-4-5-20251101")).toBe(b);
    expect(t.priceFor("claude-opus-4-1-20250805")).toBe(a);
    expect(t.priceFor("claude-haiku-4-5")).toBe(c);
  });

  it("breaks a prefix tie by the longer literal text", () => {
    const t = table({ "gpt-*": a, "gpt-*-mini": b });
    expect(t.priceFor("gpt-4o-mini")).toBe(b);
    expect(t.priceFor("gpt-4o")).toBe(a);
  });

  it("matches * anywhere and treats regex characters literally", () => {
    const t = table({ "gemini-2.5-*-preview": a });
    expect(t.priceFor("gemini-2.5-flash-preview")).toBe(a);
    expect(t.priceFor("gemini-2x5-flash-preview")).toBeUndefined();
    expect(t.priceFor("gemini-2.5-flash")).toBeUndefined();
  });

  it("returns undefined for a model nothing matches", () => {
    expect(table({ "mock-*": a }).priceFor("llama-3")).toBeUndefined();
  });
});

describe("loadPricing", () => {
  async function fileWith(content: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "pricing-"));
    const path = join(dir, "pricing.json");
    await writeFile(path, content);
    return path;
  }

  it("loads the shipped pricing file and prices the common models", async () => {
    const t = await loadPricing(shipped);
    expect(t.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const model of [
      "gpt-4o",
      "gpt-4o-mini",
      "gpt-4.1",
      "gpt-4.1-mini",
      "o3",
      "o4-mini",
      "claude-sonnet-4-5-20250929",
      "claude-haiku-4-5",
      "claude-opus-4-1-20250805",
      "gemini-2.5-flash",
      "gemini-2.0-flash",
      "gemini-2.5-pro",
      "mock-small",
    ]) {
      expect(t.priceFor(model), model).toBeDefined();
    }
    expect(t.priceFor("gpt-4o-mini")!.input).toBeLessThan(t.priceFor("gpt-4o")!.input);
    expect(t.priceFor("o3-mini")!.input).not.toBe(t.priceFor("o3")!.input);
    expect(t.priceFor("mock-small")!.input).toBeGreaterThan(0);
  });

  it("ships the long-context tiers of Gemini 2.5 Pro and Claude Sonnet 4.x", async () => {
    const t = await loadPricing(shipped);
    const usage = (inputTokens: number): IrUsage => ({ inputTokens, outputTokens: 1_000_000 });
    // Gemini 2.5 Pro: 1.25 / 10 up to 200k input tokens, 2.50 / 15 above.
    expect(costOf(usage(200_000), t.priceFor("gemini-2.5-pro")!)).toBeCloseTo(0.2 * 1.25 + 10, 12);
    expect(costOf(usage(200_001), t.priceFor("gemini-2.5-pro")!)).toBeCloseTo(0.200001 * 2.5 + 15, 12);
    // Claude Sonnet 4.5: 3 / 15 up to 200k, 6 / 22.50 above, cache reads 0.30 -> 0.60.
    const sonnet = t.priceFor("claude-sonnet-4-5-20250929")!;
    expect(costOf({ inputTokens: 300_000, outputTokens: 0, cachedReadTokens: 100_000 }, sonnet)).toBeCloseTo(0.2 * 6 + 0.1 * 0.6, 12);
    expect(costOf({ inputTokens: 150_000, outputTokens: 0, cachedReadTokens: 100_000 }, sonnet)).toBeCloseTo(0.05 * 3 + 0.1 * 0.3, 12);
    expect(t.priceFor("gemini-2.5-flash")!.tiers).toBeUndefined();
  });

  it("names the path when the file is missing", async () => {
    await expect(loadPricing("/nonexistent/pricing.json")).rejects.toThrow("pricing file /nonexistent/pricing.json: cannot read it (no such file)");
  });

  it("names the path when the file is not JSON", async () => {
    const path = await fileWith("{ models: ");
    await expect(loadPricing(path)).rejects.toThrow(`pricing file ${path}: not valid JSON`);
  });

  it("names the field when a price is wrong", async () => {
    const path = await fileWith(JSON.stringify({ updated: "2026-01-01", currency: "USD", models: { "gpt-4o": { input: "2.5", output: 10 } } }));
    await expect(loadPricing(path)).rejects.toThrow("/models/gpt-4o/input must be number");
  });

  it("rejects unknown price kinds, negative prices, other currencies and a missing date", async () => {
    const bad = (v: unknown) => () => createPriceTable(v, "x.json");
    const models = { m: { input: 1, output: 1 } };
    expect(bad({ updated: "2026-01-01", currency: "USD", models: { m: { input: 1, output: 1, cached: 1 } } })).toThrow('unknown property "cached"');
    expect(bad({ updated: "2026-01-01", currency: "USD", models: { m: { input: -1, output: 1 } } })).toThrow("/models/m/input must be >= 0");
    expect(bad({ updated: "2026-01-01", currency: "EUR", models })).toThrow("/currency must be one of");
    expect(bad({ currency: "USD", models })).toThrow('missing required property "updated"');
    expect(bad({ updated: "22/11/2026", currency: "USD", models })).toThrow("/updated");
  });
});
