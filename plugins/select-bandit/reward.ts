/**
 * An attempt's reward in [0, 1] from the configured blend (see the schema's `reward`). Every
 * term is clamped, so no outcome, price or feedback value can push an arm's statistics out of range.
 */
import type { AttemptOutcome } from "../../core/index.js";
import type { SelectBanditConfig } from "./config.generated.js";

export interface RewardBlend {
  success: number;
  latency: number;
  latencyTargetMs: number;
  latencyMeasure: "ttfb" | "total";
  cost: number;
  costTargetUsd: number;
  /** The feedback's share f of the blend: feedback weight / sum of weights. */
  feedbackShare: number;
  feedbackValueRange: readonly [number, number];
}

export function rewardBlend(config: SelectBanditConfig["reward"] = {}): RewardBlend {
  const success = config.success ?? 1;
  const latency = config.latency ?? 0;
  const cost = config.cost ?? 0;
  const feedback = config.feedback ?? 0;
  const total = success + latency + cost + feedback;
  return {
    success,
    latency,
    latencyTargetMs: config.latencyTargetMs ?? 1000,
    latencyMeasure: config.latencyMeasure ?? "ttfb",
    cost,
    costTargetUsd: config.costTargetUsd ?? 0.001,
    feedbackShare: total > 0 ? feedback / total : 0,
    feedbackValueRange: config.feedbackValueRange ?? [0, 1],
  };
}

export const clampUnit = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/** A 4xx other than 429 is the client's mistake: it says nothing about the backend. */
export function isClientFault(outcome: AttemptOutcome): boolean {
  const status = outcome.status;
  return outcome.failure !== undefined && status !== undefined && status >= 400 && status < 500 && status !== 429;
}

/**
 * The reward of the terms known when an attempt finishes (success, latency, cost), as a mean
 * over their weights; undefined when none of them is weighted (a feedback-only blend).
 * `costUsd` is the request's price when this attempt served it (undefined: not priced).
 */
export function attemptReward(blend: RewardBlend, outcome: AttemptOutcome, costUsd: number | null | undefined): number | undefined {
  const failed = outcome.failure !== undefined;
  let weights = blend.success + blend.latency;
  let sum = failed ? 0 : blend.success;
  if (!failed) {
    const ms = blend.latencyMeasure === "ttfb" ? outcome.ttfbMs ?? outcome.latencyMs : outcome.latencyMs;
    sum += blend.latency * (ms <= blend.latencyTargetMs ? 1 : clampUnit(blend.latencyTargetMs / ms));
  }
  // An unpriced request leaves the cost term out rather than scoring it as free or as dear.
  const priced = typeof costUsd === "number" && Number.isFinite(costUsd);
  if (blend.cost > 0 && (failed || priced)) {
    weights += blend.cost;
    if (!failed) sum += blend.cost * (costUsd! <= blend.costTargetUsd ? 1 : clampUnit(blend.costTargetUsd / costUsd!));
  }
  return weights > 0 ? clampUnit(sum / weights) : undefined;
}

/** Explicit feedback as a reward: a score as sent, a value mapped from [worst, best]. */
export function feedbackReward(blend: RewardBlend, feedback: { score: number } | { value: number }): number {
  if ("score" in feedback) return clampUnit(feedback.score);
  const [worst, best] = blend.feedbackValueRange;
  return worst === best ? (feedback.value >= best ? 1 : 0) : clampUnit((feedback.value - worst) / (best - worst));
}
