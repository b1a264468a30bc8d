/**
 * cost: turns a request's usage into USD with the shared pricing model (lib/pricing/price-table.ts), for
 * records, budgets and the x-switchyard-cost-usd header.
 */
import { definePlugin, type Exchange, type IrUsage } from "../../core/index.js";
import { loadPricing, costOf } from "../../lib/pricing/price-table.js";
import type { CostConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "cost";
const COST_HEADER = "x-switchyard-cost-usd";

export default definePlugin<CostConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Prices each request from its token usage and a pricing file; sets costUsd and x-switchyard-cost-usd.",
  configSchema,
  // The same read and checks as create's, so that check refuses what serve would.
  async check(config, env) {
    await loadPricing(env.resolvePath(config.pricingFile));
  },
  async create(config, env) {
    const prices = await loadPricing(env.resolvePath(config.pricingFile));
    const header = config.header ?? true;
    const priceOf = (model: string | undefined) => (model === undefined ? undefined : prices.priceFor(model));

    /** USD for `usage` at `model`'s price (the client's model name when the backend's has none), or undefined. */
    function priced(usage: IrUsage, model: string | undefined, exchange: Exchange): number | undefined {
      const price = priceOf(model) ?? priceOf(exchange.model);
      if (price) return costOf(usage, price);
      // null, not 0: an unknown price must not read as "free" in records and budgets.
      const note = `no price for model ${model ?? exchange.model ?? "(none)"}`;
      if (!exchange.notes.includes(note)) exchange.notes.push(note);
      return undefined;
    }

    function priceUsage(exchange: Exchange): void {
      const usage = exchange.usage;
      if (!usage) return;
      // A stream continued over attempts carries each attempt's own usage: each is priced at the
      // model its backend billed for. Otherwise the backend's own model name is what it bills for
      // (an alias may point anywhere).
      let total = 0;
      if (exchange.attempts.some((a) => a.usage !== undefined)) {
        for (const a of exchange.attempts) {
          if (a.usage === undefined) continue;
          const cost = priced(a.usage, a.model, exchange);
          if (cost === undefined) return void (exchange.costUsd = null);
          total += cost;
        }
      } else {
        // The common case, on every request: no array built for it.
        const cost = priced(usage, exchange.upstreamModel ?? exchange.model, exchange);
        if (cost === undefined) return void (exchange.costUsd = null);
        total = cost;
      }
      const cost = Math.round(total * 1e9) / 1e9;
      exchange.costUsd = cost;
      if (header && !exchange.headersSent) exchange.responseHeaders[COST_HEADER] = formatUsd(cost);
    }

    return {
      apply(hooks) {
        hooks.usage.tap(PLUGIN, priceUsage);
      },
    };
  },
});

/** Fixed notation: String(1e-7) would give "1e-7", which header consumers should not have to parse. */
function formatUsd(cost: number): string {
  return cost.toFixed(9).replace(/\.?0+$/, "");
}
