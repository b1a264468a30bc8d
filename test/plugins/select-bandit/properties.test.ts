/** Properties of select-bandit that hold for any plan and any reward sequence (fast-check). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttemptOutcome } from "../../../core/index.js";
import { blendWithGlobal, orderArms, posterior, scoreArms } from "../../../plugins/select-bandit/choose.js";
import { attemptReward, feedbackReward, rewardBlend } from "../../../plugins/select-bandit/reward.js";
import { betaSample, seededRandom } from "../../../plugins/select-bandit/sampling.js";
import { startBandit } from "./simulate.js";

const anyNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0));
const evidence = fc.record({ n: anyNumber, s: anyNumber });

describe("select-bandit properties", () => {
  it("puts first one of the planned backends and keeps every planned backend exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.constantFrom("a", "b", "c", "d", "e"), { minLength: 1, maxLength: 5 }), fc.array(fc.double({ min: 0, max: 1 }), { maxLength: 30 }), fc.integer(), async (ids, successes, seed) => {
        const bandit = await startBandit(ids, { seed, refreshMs: 0 }, undefined, seed);
        await bandit.run(successes.length, Object.fromEntries(ids.map((id, i) => [id, { success: successes[i] ?? 0.5 }])));
        const planned = await bandit.plan();
        expect(ids).toContain(planned[0]);
        expect([...planned].sort()).toEqual([...ids].sort());
      }),
      { numRuns: 40 },
    );
  });

  it("orders indexes of the plan only, each once, under any evidence and either strategy", () => {
    fc.assert(
      fc.property(fc.array(evidence, { minLength: 1, maxLength: 6 }), fc.constantFrom("thompson" as const, "ucb1" as const), fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), (arms, strategy, seed, explore) => {
        const order = orderArms(arms, { strategy, ucbScale: 1, explore, random: seededRandom(seed) });
        expect([...order].sort((a, b) => a - b)).toEqual(arms.map((_, i) => i));
      }),
    );
  });

  it("keeps rewards, posteriors and Thompson draws in range under any outcome, price or feedback", () => {
    const outcome = fc.record({
      backend: fc.constant("a"),
      model: fc.constant("m"),
      status: fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }),
      failure: fc.option(fc.constantFrom("connect" as const, "timeout" as const, "status" as const, "stream" as const), { nil: undefined }),
      ttfbMs: fc.option(anyNumber, { nil: undefined }),
      latencyMs: anyNumber,
    });
    const weights = fc.record({ success: fc.double({ min: 0, max: 10, noNaN: true }), latency: fc.double({ min: 0, max: 10, noNaN: true }), cost: fc.double({ min: 0, max: 10, noNaN: true }), feedback: fc.double({ min: 0, max: 10, noNaN: true }) });
    fc.assert(
      fc.property(weights, fc.array(fc.tuple(outcome, fc.option(anyNumber, { nil: undefined }), anyNumber)), fc.integer(), (w, sequence, seed) => {
        const blend = rewardBlend({ ...w, latencyTargetMs: 500, costTargetUsd: 0.01 });
        expect(blend.feedbackShare).toBeGreaterThanOrEqual(0);
        expect(blend.feedbackShare).toBeLessThanOrEqual(1);
        let totals = { n: 0, s: 0 };
        for (const [o, cost, feedback] of sequence) {
          for (const reward of [attemptReward(blend, o as AttemptOutcome, cost), feedbackReward(blend, { value: feedback }), feedbackReward(blend, { score: feedback })]) {
            if (reward === undefined) continue;
            expect(reward).toBeGreaterThanOrEqual(0);
            expect(reward).toBeLessThanOrEqual(1);
            totals = { n: totals.n + 1, s: totals.s + reward };
          }
        }
        const { alpha, beta } = posterior(blendWithGlobal(totals, { n: 3, s: 2 }, 20));
        expect(alpha).toBeGreaterThanOrEqual(1);
        expect(beta).toBeGreaterThanOrEqual(1);
        const draw = betaSample(alpha, beta, seededRandom(seed));
        expect(draw).toBeGreaterThanOrEqual(0);
        expect(draw).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("scores Thompson draws within [0, 1] for any evidence, even nonsense", () => {
    fc.assert(
      fc.property(fc.array(evidence, { minLength: 1, maxLength: 6 }), fc.integer(), (arms, seed) => {
        for (const score of scoreArms(arms, { strategy: "thompson", ucbScale: 1, explore: 0, random: seededRandom(seed) })) {
          expect(score).toBeGreaterThanOrEqual(0);
          expect(score).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});
