import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/contract/errors.js";
import type { Exchange } from "../../../core/index.js";
import { createMemoryStore } from "../../../lib/state/memory.js";
import { configFor, createTestExchange, createTestStep } from "../../../testkit/index.js";
import budget, { estimateMicroUsd, periodOf } from "../../../plugins/budget/index.js";

async function step(config: unknown, store = createMemoryStore()) {
  const { hooks } = await createTestStep(budget, config, { store });
  return { hooks, store, validate: (e: Exchange) => hooks.validate.promise(e) };
}

/** A request that went through with the given cost. */
async function finish(hooks: Awaited<ReturnType<typeof step>>["hooks"], exchange: Exchange, costUsd: number | null | undefined, answered = true) {
  if (answered) exchange.attempts.push({ backend: "b", model: "m", status: 200, latencyMs: 1 });
  exchange.costUsd = costUsd;
  await hooks.settle.promise(exchange);
}

const tenant = (t = "acme") => createTestExchange({ tenant: t, keyId: "k1" });
const flat = (limitUsd: number, flatUsd: number, extra: Record<string, unknown> = {}) => ({
  budgets: [{ by: "tenant", limitUsd, period: "month", ...extra }],
  estimate: { flatUsd },
});

describe("budget", () => {
  it("reserves the estimate, settles to the real cost, and refuses with 402 budget_exceeded at the cap", async () => {
    const { hooks, validate } = await step(flat(1, 0.3));
    for (let i = 0; i < 4; i++) {
      const e = tenant();
      expect(await validate(e)).toBeUndefined();
      await finish(hooks, e, 0.2); // 4 × 0.2 = 0.8 spent
    }
    const refusal = await validate(tenant());
    expect(refusal).toBeInstanceOf(GatewayError);
    expect(refusal).toMatchObject({ status: 402, type: "budget_exceeded", code: "budget_exceeded", source: "budget" });
    expect((refusal as GatewayError).message).toMatch(/\$0\.80 of the \$1\.00 month budget by tenant/);
    expect((refusal as GatewayError).retryAfterMs).toBeGreaterThan(0);
    expect(await validate(tenant("other"))).toBeUndefined();
  });

  it("counts in-flight estimates: concurrent requests cannot together pass the cap", async () => {
    const { validate } = await step(flat(1, 0.1));
    const replies = await Promise.all(Array.from({ length: 25 }, () => validate(tenant())));
    expect(replies.filter((r) => r === undefined).length).toBe(10);
  });

  it("answers 429 when configured so", async () => {
    const { validate } = await step({ ...flat(0.1, 0.1), exhaustedStatus: 429 });
    expect(await validate(tenant())).toBeUndefined();
    expect(await validate(tenant())).toMatchObject({ status: 429, type: "budget_exceeded" });
  });

  it("warns with x-switchyard-budget-warning once the soft limit is reached", async () => {
    const { hooks, validate } = await step(flat(1, 0.25, { id: "monthly", warnAt: 0.5 }));
    const first = tenant();
    await validate(first);
    expect(first.responseHeaders["x-switchyard-budget-warning"]).toBeUndefined();
    await finish(hooks, first, 0.3);
    const second = tenant();
    await validate(second);
    expect(second.responseHeaders["x-switchyard-budget-warning"]).toBe("monthly (by tenant): 55% of $1.00 per month used");
  });

  it("gives the estimate back when no backend answered, and keeps it when the price is unknown", async () => {
    const { hooks, validate } = await step(flat(1, 0.5));
    const failed = tenant();
    await validate(failed);
    await finish(hooks, failed, undefined, false);
    const unknown = tenant();
    await validate(unknown);
    await finish(hooks, unknown, null);
    expect(unknown.notes.join(" ")).toMatch(/cost unknown/);
    expect(await validate(tenant())).toBeUndefined(); // 0.5 counted + 0.5 reserved = 1.0
    expect(await validate(tenant())).toMatchObject({ status: 402 });
  });

  it("a refusal by one budget gives back what the others reserved", async () => {
    const { validate } = await step({
      budgets: [
        { id: "team", by: "tenant", limitUsd: 10, period: "day" },
        { id: "per-key", by: "key", limitUsd: 0.2, period: "day" },
      ],
      estimate: { flatUsd: 0.1 },
    });
    expect(await validate(createTestExchange({ tenant: "t", keyId: "a" }))).toBeUndefined();
    expect(await validate(createTestExchange({ tenant: "t", keyId: "a" }))).toBeUndefined();
    for (let i = 0; i < 50; i++) expect(await validate(createTestExchange({ tenant: "t", keyId: "a" }))).toMatchObject({ status: 402 });
    // Had the refused requests kept their tenant reservations, the team budget (10) would be near 5.2 now.
    for (let i = 0; i < 98; i++) expect(await validate(createTestExchange({ tenant: "t", keyId: `k${i}` }))).toBeUndefined();
    expect(await validate(createTestExchange({ tenant: "t", keyId: "z" }))).toMatchObject({ status: 402 });
  });

  it("a global budget counts everyone; a budget whose subject is missing does not apply", async () => {
    const { validate } = await step({ budgets: [{ by: "global", limitUsd: 0.3, period: 60000 }, { by: "tenant", limitUsd: 0.1, period: "day" }], estimate: { flatUsd: 0.1 } });
    expect(await validate(createTestExchange())).toBeUndefined();
    expect(await validate(createTestExchange())).toBeUndefined();
    expect(await validate(tenant())).toBeUndefined();
    expect(await validate(createTestExchange())).toMatchObject({ status: 402 });
  });

  it("estimates from worst-case token prices and the request's output cap", () => {
    const body = { model: "m", max_tokens: 1000, messages: [] };
    const promptTokens = Math.ceil(JSON.stringify(body).length / 4);
    expect(estimateMicroUsd(body, { inputUsdPerMTok: 10, outputUsdPerMTok: 30 })).toBe(Math.ceil(promptTokens * 10 + 1000 * 30));
    expect(estimateMicroUsd({}, { inputUsdPerMTok: 0, outputUsdPerMTok: 1, defaultMaxTokens: 500 })).toBe(500);
    expect(estimateMicroUsd(body, { flatUsd: 0.02, inputUsdPerMTok: 10, outputUsdPerMTok: 30 })).toBe(20_000);
    // An embedding generates nothing: its input alone is priced, whatever output cap would apply.
    expect(estimateMicroUsd(body, { inputUsdPerMTok: 10, outputUsdPerMTok: 30 }, false)).toBe(Math.ceil(promptTokens * 10));
  });

  it("periods are UTC days, UTC months, or fixed spans from the epoch", () => {
    const t = Date.UTC(2025, 0, 31, 23, 59, 59);
    expect(periodOf("day", t)).toEqual({ id: "2025-01-31", endsAt: Date.UTC(2025, 1, 1) });
    expect(periodOf("month", t)).toEqual({ id: "2025-01", endsAt: Date.UTC(2025, 1, 1) });
    expect(periodOf("month", Date.UTC(2025, 11, 15))).toEqual({ id: "2025-12", endsAt: Date.UTC(2026, 0, 1) });
    expect(periodOf(3_600_000, 7_200_001)).toEqual({ id: "2", endsAt: 10_800_000 });
  });

  it("rejects an estimate with neither a flat cost nor both prices, and bad periods", async () => {
    await expect(step({ budgets: [{ by: "tenant", limitUsd: 1, period: "day" }], estimate: { inputUsdPerMTok: 1 } })).rejects.toThrow(/estimate needs flatUsd/);
    expect(() => configFor(budget, { budgets: [{ by: "tenant", limitUsd: 1, period: "week" }], estimate: { flatUsd: 1 } })).toThrow(/period/);
    expect(() => configFor(budget, { budgets: [{ by: "tenant", limitUsd: 0, period: "day" }], estimate: { flatUsd: 1 } })).toThrow(/limitUsd/);
  });
});
