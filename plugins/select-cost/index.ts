/**
 * select-cost: cheapest first. Each attempt is priced by the model its backend is asked for, with
 * the shared pricing model (lib/pricing/price-table.ts), as one blended number per 1M input tokens: the input
 * price plus the output price weighted by the traffic's expected output/input ratio. Equal prices
 * keep their plan order, so an earlier step's preference still breaks ties.
 */
import { definePlugin, type Attempt } from "../../core/index.js";
import { loadPricing } from "../../lib/pricing/price-table.js";
import type { SelectCostConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { spreadOverHealthy } from "../../lib/plan/held-back.js";

const PLUGIN = "select-cost";

export default definePlugin<SelectCostConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Orders the planned attempts cheapest first by a pricing file; unpriced models go last or are dropped.",
  configSchema,
  // The same read and checks as create's, so that check refuses what serve would.
  async check(config, env) {
    await loadPricing(env.resolvePath(config.pricingFile));
  },
  async create(config, env) {
    const prices = await loadPricing(env.resolvePath(config.pricingFile));
    const outputPerInput = config.outputPerInput ?? 0.3;
    const dropUnpriced = (config.unpriced ?? "last") === "drop";
    const estimate = (model: string): number => {
      const price = prices.priceFor(model);
      return price === undefined ? Number.POSITIVE_INFINITY : price.input + outputPerInput * price.output;
    };
    // Reused by every plan: the tap is synchronous, so no two plans share it at once.
    const scores: number[] = [];
    const order: number[] = [];

    return {
      apply(hooks) {
        hooks.plan.tap(PLUGIN, spreadOverHealthy((attempts: Attempt[]) => {
          const n = attempts.length;
          if (n === 0 || (n === 1 && !dropUnpriced)) return attempts;
          order.length = n;
          for (let i = 0; i < n; i++) {
            scores[i] = estimate(attempts[i]!.model);
            order[i] = i;
          }
          // Stable: equal estimates (and every unpriced attempt) keep their plan order.
          order.sort((x, y) => scores[x]! - scores[y]! || x - y);
          const out: Attempt[] = [];
          for (const i of order) {
            if (dropUnpriced && scores[i] === Number.POSITIVE_INFINITY) break;
            out.push(attempts[i]!);
          }
          return out;
        }));
      },
    };
  },
});
