/**
 * The healthy part of a plan, as a health step (health-breaker) leaves it: the first attempts are
 * fit to be tried, the ones after them are held back as last resorts. A load-spreading selector
 * placed after it spreads over the healthy part only and keeps the rest behind, in their order:
 * without this a round-robin rotation (or a weighted pick…) would put open circuits back in front.
 *
 * Kept beside the plan (a WeakMap keyed by the plan array) rather than on the attempts: attempts
 * are shared by every request for the same model, and the plan array is this request's own.
 */
import type { Attempt, Exchange } from "../../core/index.js";

const healthyCounts = new WeakMap<readonly Attempt[], number>();

/** Says that only the first `healthy` attempts of `plan` are fit; returns `plan`. */
export function markHealthyPart(plan: Attempt[], healthy: number): Attempt[] {
  if (healthy < plan.length) healthyCounts.set(plan, healthy);
  return plan;
}

/** The healthy front of `plan` and the held-back rest (empty when no health step marked the plan). */
export function splitHealthy(plan: Attempt[]): [healthy: Attempt[], heldBack: Attempt[]] {
  const healthy = healthyCounts.get(plan);
  return healthy === undefined ? [plan, []] : [plan.slice(0, healthy), plan.slice(healthy)];
}

/** A selector's order of the healthy part, then the held-back rest, marked the same way for the next step. */
export function rejoinHealthy(ordered: Attempt[], heldBack: Attempt[]): Attempt[] {
  return heldBack.length === 0 ? ordered : markHealthyPart([...ordered, ...heldBack], ordered.length);
}

type PlanOrder = (attempts: Attempt[], exchange: Exchange) => Attempt[];

/**
 * Wraps a selector's plan tap so that it orders only the healthy part of the plan it is given;
 * the held-back attempts follow, and the plan it returns is marked the same way for the next step.
 */
export function spreadOverHealthy(order: PlanOrder): PlanOrder {
  return (attempts, exchange) => {
    const [healthy, heldBack] = splitHealthy(attempts);
    return heldBack.length === 0 ? order(attempts, exchange) : rejoinHealthy(order(healthy, exchange), heldBack);
  };
}
