/**
 * The pricing-file model shared by every step that needs a price (`cost` now, `select-cost`
 * later): load and check a pricing file, find a model's price, and turn usage into USD.
 * Prices are USD per 1M tokens; see schemas/pricing.schema.json for the file format.
 */
import { readFile } from "node:fs/promises";
import pricingSchema from "../../schemas/pricing.schema.json" with { type: "json" };
import { compileGlob, type IrUsage } from "../../core/index.js";
import { compileSchema, describeAjvError } from "../schema/check-config.js";

/** Rates in USD per 1M tokens (`Rates` in the schema). */
interface PriceRates {
  input: number;
  output: number;
  cachedRead?: number;
  cacheWrite?: number;
  reasoning?: number;
}

/** Rates that replace a model's base rates for a whole request whose input is above a size (long-context pricing). */
interface PriceTier extends PriceRates {
  /** Applies when the request's input tokens (cached and cache-write included) are more than this. */
  aboveInputTokens: number;
}

/** One model's prices (`ModelPrice` in the schema). */
export interface ModelPrice extends PriceRates {
  tiers?: PriceTier[];
}

interface PricingFile {
  $schema?: string;
  description?: string;
  updated: string;
  currency: "USD";
  models: Record<string, ModelPrice>;
}

interface PriceTable {
  /** Where the prices came from (a file path, or a label for in-memory tables). */
  readonly source: string;
  /** The file's `updated` day, YYYY-MM-DD. */
  readonly updated: string;
  readonly currency: "USD";
  /** The price of `model`: its exact entry, else the most specific matching glob, else undefined. */
  priceFor(model: string): ModelPrice | undefined;
}

interface GlobEntry {
  pattern: string;
  matches: (model: string) => boolean;
  /** Characters before the first `*`: the specificity rule. */
  literalPrefix: number;
  /** All non-`*` characters: breaks ties between equal prefixes. */
  literalChars: number;
  price: ModelPrice;
}

/** Reads, parses and checks a pricing file; every failure names the file. */
export async function loadPricing(path: string): Promise<PriceTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`pricing file ${path}: cannot read it (${code === "ENOENT" ? "no such file" : (code ?? String(err))})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`pricing file ${path}: not valid JSON (${(err as Error).message})`);
  }
  return createPriceTable(data, path);
}

/** Checks `data` against the pricing schema and indexes it; `source` names it in errors. */
export function createPriceTable(data: unknown, source: string): PriceTable {
  const validatePricing = compileSchema<PricingFile>(pricingSchema);
  if (!validatePricing(data)) {
    const issues = (validatePricing.errors ?? []).map(describeAjvError).map((i) => `${i.pointer || "/"} ${i.message}`);
    throw new Error(`pricing file ${source}: ${issues.join("; ")}`);
  }
  const file = data;
  for (const [pattern, price] of Object.entries(file.models)) {
    const thresholds = (price.tiers ?? []).map((t) => t.aboveInputTokens);
    const repeated = thresholds.find((t, i) => thresholds.indexOf(t) !== i);
    if (repeated !== undefined) throw new Error(`pricing file ${source}: /models/${pattern.replace(/~/g, "~0").replace(/\//g, "~1")}/tiers has two tiers above ${repeated} input tokens`);
  }
  const exact = new Map<string, ModelPrice>();
  const globs: GlobEntry[] = [];
  for (const [pattern, price] of Object.entries(file.models)) {
    if (!pattern.includes("*")) {
      exact.set(pattern, price);
      continue;
    }
    const star = pattern.indexOf("*");
    globs.push({ pattern, matches: compileGlob(pattern), literalPrefix: star, literalChars: pattern.replaceAll("*", "").length, price });
  }
  // Most specific first, so the first match wins; Array.sort is stable, so equal globs keep file order.
  globs.sort((a, b) => b.literalPrefix - a.literalPrefix || b.literalChars - a.literalChars);
  return {
    source,
    updated: file.updated,
    currency: file.currency,
    priceFor(model: string): ModelPrice | undefined {
      const hit = exact.get(model);
      if (hit) return hit;
      for (const g of globs) if (g.matches(model)) return g.price;
      return undefined;
    },
  };
}

/**
 * The rates a request of `inputTokens` pays: the tier with the highest threshold below its input,
 * else the base rates. Providers price long prompts per request, not per token above the line:
 * a 300k-token Gemini 2.5 Pro prompt pays the >200k rate on all 300k, output included.
 */
export function ratesFor(price: ModelPrice, inputTokens: number): PriceRates {
  let rates: PriceRates = price;
  let threshold = -1;
  for (const tier of price.tiers ?? []) {
    if (inputTokens > tier.aboveInputTokens && tier.aboveInputTokens > threshold) {
      rates = tier;
      threshold = tier.aboveInputTokens;
    }
  }
  return rates;
}

/**
 * USD for `usage` at `price`, unrounded. IrUsage counts cached-read and cache-write tokens inside
 * `inputTokens` and reasoning tokens inside `outputTokens` (core/contract/ir.ts), so each special kind is
 * taken out of its total and charged once at its own rate (falling back to the plain rate).
 * A backend that reports more special tokens than total is clamped rather than charged negative.
 * The rates are those of the tier the request's whole input falls in (`ratesFor`).
 */
export function costOf(usage: IrUsage, modelPrice: ModelPrice): number {
  const price = ratesFor(modelPrice, usage.inputTokens);
  const cachedRead = Math.max(0, usage.cachedReadTokens ?? 0);
  const cacheWrite = Math.max(0, usage.cacheWriteTokens ?? 0);
  const reasoning = Math.max(0, usage.reasoningTokens ?? 0);
  const plainInput = Math.max(0, usage.inputTokens - cachedRead - cacheWrite);
  const plainOutput = Math.max(0, usage.outputTokens - reasoning);
  const micro =
    plainInput * price.input +
    cachedRead * (price.cachedRead ?? price.input) +
    cacheWrite * (price.cacheWrite ?? price.input) +
    plainOutput * price.output +
    reasoning * (price.reasoning ?? price.output);
  return micro / 1e6;
}
