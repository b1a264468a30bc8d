/**
 * Spend caps in USD per tenant, key or globally, per day, month or custom period. `validate`
 * reserves each request's worst-case cost against every budget that applies, atomically in the
 * store (so concurrent requests across instances cannot together pass a cap by more than the
 * estimates undershoot); `settle` replaces the reservation with the cost the cost step computed.
 * Amounts are kept in integer micro-dollars so totals never drift by float rounding.
 */
import { definePlugin, GatewayError, type Exchange } from "../../core/index.js";
import { generatesOutput } from "../../lib/usage/generates-output.js";
import { answerDryRun, type WouldReserve } from "../../lib/explain/dry-run.js";
import { StoreOutagePolicy } from "../../lib/state/outage-policy.js";
import type { Budget, BudgetConfig, Estimate } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "budget";
const MICRO = 1_000_000;
const DAY_MS = 86_400_000;
/** Counters outlive their period a little, so a request settling just after the rollover still finds its reservation. */
const SETTLE_GRACE_MS = DAY_MS;

const toMicro = (usd: number) => Math.round(usd * MICRO);
const usd = (micro: number) => `$${(micro / MICRO).toFixed(micro > 0 && micro < 10_000 ? 6 : 2)}`;

export interface Period {
  /** Names the period in counter keys: 2025-01-31, 2025-01, or the period's number. */
  id: string;
  endsAt: number;
}

/** The period containing `now`: UTC calendar days and months, or fixed spans counted from the epoch. */
export function periodOf(period: Budget["period"], now: number): Period {
  const d = new Date(now);
  if (period === "day") {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return { id: new Date(start).toISOString().slice(0, 10), endsAt: start + DAY_MS };
  }
  if (period === "month") {
    return { id: d.toISOString().slice(0, 7), endsAt: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
  }
  const n = Math.floor(now / period);
  return { id: String(n), endsAt: (n + 1) * period };
}

/** Worst-case cost of a request in micro-dollars. `generates` false (embeddings, token counts: lib/usage/generates-output.ts) prices the input alone. */
export function estimateMicroUsd(body: Record<string, unknown>, estimate: Estimate, generates = true): number {
  if (estimate.flatUsd !== undefined) return toMicro(estimate.flatUsd);
  const promptTokens = Math.ceil(JSON.stringify(body).length / 4);
  if (!generates) return Math.ceil(promptTokens * (estimate.inputUsdPerMTok ?? 0));
  const generation = (body.generationConfig ?? body.generation_config) as Record<string, unknown> | undefined;
  const caps = [body.max_completion_tokens, body.max_tokens, body.max_output_tokens, generation?.maxOutputTokens, generation?.max_output_tokens];
  const cap = caps.find((v): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0) ?? estimate.defaultMaxTokens ?? 1024;
  const choices = typeof body.n === "number" && body.n > 1 ? Math.floor(body.n) : 1;
  return Math.ceil(promptTokens * (estimate.inputUsdPerMTok ?? 0) + cap * choices * (estimate.outputUsdPerMTok ?? 0));
}

function periodLabel(period: Budget["period"]): string {
  return typeof period === "string" ? period : `${period / 1000}s period`;
}

interface Held {
  key: string;
  amount: number;
  ttlMs: number;
}

export default definePlugin<BudgetConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Spend caps in USD per tenant, key or globally per day, month or custom period, reserved before and settled after each request",
  configSchema,
  create(config, env) {
    const { estimate } = config;
    if (estimate.flatUsd === undefined && (estimate.inputUsdPerMTok === undefined || estimate.outputUsdPerMTok === undefined)) {
      throw new Error(`${PLUGIN}: estimate needs flatUsd, or both inputUsdPerMTok and outputUsdPerMTok`);
    }
    const store = env.store;
    const outage = new StoreOutagePolicy(config.onUnavailable ?? store.onUnavailable, env.log, PLUGIN);
    const budgets = config.budgets.map((b, i) => ({ ...b, name: b.id ?? String(i), limit: toMicro(b.limitUsd), warnAt: b.warnAt ?? 0.8 }));
    const keyBase = `${PLUGIN}:${env.pipelineId}:${env.id}`;
    const held = new WeakMap<Exchange, { holds: Held[]; amount: number }>();

    const subjectOf = (by: Budget["by"], exchange: Exchange) => (by === "global" ? "all" : by === "tenant" ? exchange.tenant : exchange.keyId);

    async function settleHolds(holds: Held[], actual: number): Promise<void> {
      await Promise.all(
        holds.map(async (hold) => {
          if (actual === hold.amount) return;
          try {
            await store.add(hold.key, actual - hold.amount, hold.ttlMs);
          } catch (err) {
            outage.lost(err, "settling a budget");
          }
        }),
      );
    }

    const exhausted = (budget: (typeof budgets)[number], total: number, amount: number, resetsInMs: number) =>
      new GatewayError({
        status: config.exhaustedStatus ?? 402,
        type: "budget_exceeded",
        code: "budget_exceeded",
        message: `Budget exhausted: ${usd(total)} of the ${usd(budget.limit)} ${periodLabel(budget.period)} budget by ${budget.by} is spent or reserved, and this request may cost up to ${usd(amount)}. It resets in ${Math.ceil(resetsInMs / 60_000)} min.`,
        retryAfterMs: resetsInMs,
        source: PLUGIN,
      });

    /** For explain: what `reserve` would hold against each budget, read with a zero add (the counters' own read). */
    async function preview(exchange: Exchange, amount: number): Promise<{ reserves: WouldReserve[]; refusal?: GatewayError }> {
      const now = Date.now();
      const reserves: WouldReserve[] = [];
      for (const budget of budgets) {
        const subject = subjectOf(budget.by, exchange);
        if (subject === undefined || subject === "") continue;
        const period = periodOf(budget.period, now);
        const key = `${keyBase}:${budget.name}:${budget.by}:${encodeURIComponent(subject)}:${period.id}`;
        const total = await store.add(key, 0, period.endsAt - now + SETTLE_GRACE_MS);
        const fits = total + amount <= budget.limit;
        reserves.push({ rule: budget.name, subject: budget.by === "global" ? "global" : `${budget.by} ${subject}`, unit: "usd", amount: amount / MICRO, limit: budget.limit / MICRO, used: total / MICRO, per: periodLabel(budget.period), fits });
        if (!fits) return { reserves, refusal: exhausted(budget, total, amount, period.endsAt - now) };
      }
      return { reserves };
    }

    async function reserve(exchange: Exchange, amount: number, holds: Held[]): Promise<GatewayError | undefined> {
      const now = Date.now();
      const warnings: string[] = [];
      for (const budget of budgets) {
        const subject = subjectOf(budget.by, exchange);
        if (subject === undefined || subject === "") continue;
        const period = periodOf(budget.period, now);
        const key = `${keyBase}:${budget.name}:${budget.by}:${encodeURIComponent(subject)}:${period.id}`;
        const ttlMs = period.endsAt - now + SETTLE_GRACE_MS;
        const result = await store.reserve(key, amount, budget.limit, ttlMs);
        if (!result.allowed) return exhausted(budget, result.total, amount, period.endsAt - now);
        holds.push({ key, amount, ttlMs });
        if (result.total >= budget.warnAt * budget.limit) {
          warnings.push(`${budget.name} (by ${budget.by}): ${Math.floor((100 * result.total) / budget.limit)}% of ${usd(budget.limit)} per ${periodLabel(budget.period)} used`);
        }
      }
      if (warnings.length > 0) exchange.responseHeaders["x-switchyard-budget-warning"] = warnings.join("; ");
      return undefined;
    }

    return {
      apply(hooks) {
        answerDryRun(hooks, env.id, async (question, exchange) => {
          if (question.phase !== "validate") return undefined;
          const { reserves, refusal } = await preview(exchange, estimateMicroUsd(exchange.body, estimate, generatesOutput(exchange)));
          const says = reserves.map((r) => `${r.fits ? "would reserve" : "REFUSES:"} ${usd(r.amount * MICRO)} of ${usd(r.limit * MICRO)} per ${r.per} by ${r.subject} (${usd((r.used ?? 0) * MICRO)} spent or reserved)`);
          if (says.length === 0) says.push("no budget applies to this request");
          return { says, reserves, refusal };
        });
        hooks.validate.tapPromise(PLUGIN, async (exchange) => {
          const amount = estimateMicroUsd(exchange.body, estimate, generatesOutput(exchange));
          const holds: Held[] = [];
          try {
            const refusal = await reserve(exchange, amount, holds);
            if (refusal) {
              await settleHolds(holds, 0);
              return refusal;
            }
            held.set(exchange, { holds, amount });
            return undefined;
          } catch (err) {
            await settleHolds(holds, 0);
            return outage.decide(err, exchange);
          }
        });

        hooks.settle.tapPromise(PLUGIN, async (exchange) => {
          const state = held.get(exchange);
          if (!state) return;
          held.delete(exchange);
          let actual: number;
          if (typeof exchange.costUsd === "number") actual = toMicro(exchange.costUsd);
          else if (exchange.costUsd === null) {
            // Unknown price: the worst case stays counted rather than letting the spend go unseen.
            actual = state.amount;
            exchange.notes.push(`${PLUGIN}: cost unknown, the estimate of ${usd(state.amount)} stays counted`);
          } else {
            // No cost computed: a request no backend answered cost nothing; one that was answered keeps its estimate.
            const answered = exchange.attempts.some((a) => a.status !== undefined && a.status < 400);
            actual = answered ? state.amount : 0;
          }
          await settleHolds(state.holds, actual);
        });
      },
    };
  },
});
