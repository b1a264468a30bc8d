/**
 * The bandit's decision: score each planned arm (a Thompson draw or a UCB1 bound) from its
 * evidence, take the best (or, with probability `explore`, one at random) and order the rest by
 * score behind it.
 */
import type { ArmEvidence } from "./arm-stats.js";
import { betaSample, type RandomSource } from "./sampling.js";

export interface Chooser {
  strategy: "thompson" | "ucb1";
  ucbScale: number;
  explore: number;
  random: RandomSource;
}

const NO_EVIDENCE: ArmEvidence = { n: 0, s: 0 };

/**
 * The context's evidence for an arm, with any shortfall under `minObservations` made up by
 * pseudo-observations at the arm's global mean: a thin context leans on the global arm and
 * stands on its own numbers once it has enough.
 */
export function blendWithGlobal(local: ArmEvidence | undefined, global: ArmEvidence | undefined, minObservations: number): ArmEvidence {
  const own = local ?? NO_EVIDENCE;
  const all = global ?? NO_EVIDENCE;
  const shortfall = Math.max(0, minObservations - own.n);
  if (shortfall === 0 || all.n <= 0) return own;
  const borrowed = Math.min(shortfall, all.n);
  return { n: own.n + borrowed, s: own.s + (borrowed * all.s) / all.n };
}

/** Beta(1 + s, 1 + n - s): the posterior of a mean reward in [0, 1] from a uniform prior. */
export function posterior(evidence: ArmEvidence): { alpha: number; beta: number } {
  const n = Math.max(0, Number.isFinite(evidence.n) ? evidence.n : 0);
  const s = Math.min(n, Math.max(0, Number.isFinite(evidence.s) ? evidence.s : 0));
  return { alpha: 1 + s, beta: 1 + n - s };
}

/** Scores in plan order: higher is better. */
export function scoreArms(evidence: readonly ArmEvidence[], chooser: Chooser): number[] {
  if (chooser.strategy === "thompson") {
    return evidence.map((e) => {
      const { alpha, beta } = posterior(e);
      return betaSample(alpha, beta, chooser.random);
    });
  }
  const total = evidence.reduce((sum, e) => sum + Math.max(0, e.n), 0);
  const logTotal = Math.log(Math.max(total, 1));
  return evidence.map((e) => {
    // An arm without evidence is tried before any bound is compared (UCB1's initial round).
    if (!(e.n > 1e-9)) return Number.POSITIVE_INFINITY;
    const { alpha, beta } = posterior(e);
    const mean = (alpha - 1) / (alpha + beta - 2);
    return mean + chooser.ucbScale * Math.sqrt((2 * logTotal) / e.n);
  });
}

/** Indexes into the plan: the chosen arm first, then the others by descending score (ties in plan order). */
export function orderArms(evidence: readonly ArmEvidence[], chooser: Chooser): number[] {
  const scores = scoreArms(evidence, chooser);
  const byScore = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  if (chooser.explore > 0 && chooser.random() < chooser.explore) {
    const explored = Math.floor(chooser.random() * evidence.length);
    return [explored, ...byScore.filter((i) => i !== explored)];
  }
  return byScore;
}

/** Draws used to estimate Thompson shares for explain: enough for two decimals, cheap for a handful of arms. */
const SHARE_DRAWS = 2000;

/**
 * Each arm's estimated mean reward and the share of requests it would be put first in, for
 * explain: UCB1 is deterministic (the best bound takes all but the exploration), Thompson's shares
 * are counted over draws from a generator of their own, so the chooser's sequence is not advanced.
 */
export function armShares(evidence: readonly ArmEvidence[], chooser: Chooser, random: RandomSource): { estimate: number; share: number }[] {
  const estimates = evidence.map((e) => {
    const { alpha, beta } = posterior(e);
    return alpha / (alpha + beta);
  });
  const firsts = new Array<number>(evidence.length).fill(0);
  const draws = chooser.strategy === "thompson" ? SHARE_DRAWS : 1;
  for (let d = 0; d < draws; d++) {
    const scores = scoreArms(evidence, { ...chooser, random });
    firsts[scores.reduce((best, s, i) => (s > scores[best]! ? i : best), 0)]!++;
  }
  const explored = chooser.explore / evidence.length;
  return estimates.map((estimate, i) => ({ estimate, share: (1 - chooser.explore) * (firsts[i]! / draws) + explored }));
}
