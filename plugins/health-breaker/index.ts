/**
 * health-breaker: passive health checks. Every attempt's outcome feeds its backend's circuit
 * (see circuit.ts); the plan then puts backends that are open, half-open with a probe running, or
 * cooling after a 429 behind the healthy ones, or drops them. Marking happens on the attempt
 * hooks with a few counter updates: no timers, no work on the request's path beyond a scan.
 *
 * When no planned backend is healthy the plan is emptied (whenAllUnavailable "reject"): no
 * upstream is disturbed, and the exchange's heldBack tells the core when the first one comes back,
 * so the client gets a 503 (429 when all are rate-limited) with a retry-after. With "try" the plan
 * is left alone instead: the request is still sent and the client gets the backends' own errors.
 */
import { definePlugin, type Attempt, type AttemptOutcome, type Exchange, type StepPlugin } from "../../core/index.js";
import { answerBackendStates, stateOf } from "../../lib/health/report.js";
import { markHealthyPart } from "../../lib/plan/held-back.js";
import { Circuit, type CircuitChange, type CircuitRules } from "./circuit.js";
import type { HealthBreakerConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "health-breaker";

export interface HealthBreakerOptions {
  /** Monotonic milliseconds; tests pass a clock they move by hand. */
  now?: () => number;
}

type FailureRule = NonNullable<HealthBreakerConfig["on"]>[number];

/** The plugin with its clock; the default export uses performance.now. */
export function healthBreakerPlugin(options: HealthBreakerOptions = {}): StepPlugin<HealthBreakerConfig> {
  const now = options.now ?? (() => performance.now());
  return definePlugin<HealthBreakerConfig>({
    kind: "step",
    name: PLUGIN,
    description: "Passive health: a circuit breaker and 429 cooldown per backend; unhealthy backends go to the end of the plan.",
    configSchema,
    create(config, env) {
      const rules: CircuitRules = {
        consecutiveFailures: config.consecutiveFailures ?? 5,
        errorRatio: config.errorRatio ?? 0.5,
        minRequests: config.minRequests ?? 20,
        windowMs: config.windowMs ?? 30_000,
        cooldownMs: config.cooldownMs ?? 30_000,
        halfOpenSuccesses: config.halfOpenSuccesses ?? 1,
      };
      const counts = failureMatcher(config.on ?? ["connect", "timeout", "stream", 429, "5xx"]);
      const rateLimitCooldown = config.rateLimitCooldown ?? true;
      const rateLimitCooldownMs = config.rateLimitCooldownMs ?? 1_000;
      const maxRateLimitCooldownMs = config.maxRateLimitCooldownMs ?? 60_000;
      const drop = config.drop ?? false;
      const rejectWhenNone = (config.whenAllUnavailable ?? "reject") === "reject";

      const circuits = new Map<string, Circuit>();
      for (const id of env.backends.keys()) circuits.set(id, new Circuit(rules));
      const circuitOf = (id: string): Circuit => {
        let circuit = circuits.get(id);
        if (circuit === undefined) {
          circuit = new Circuit(rules);
          circuits.set(id, circuit);
        }
        return circuit;
      };
      const report = (backend: string, change: CircuitChange, outcome: AttemptOutcome): void => {
        if (change === undefined) return;
        const detail = { backend, status: outcome.status, failure: outcome.failure, cooldownMs: rules.cooldownMs };
        if (change === "closed") env.log.info({ backend }, `${PLUGIN}: circuit closed, backend is back in rotation`);
        else env.log.warn(detail, `${PLUGIN}: circuit ${change}, backend kept back for ${rules.cooldownMs} ms`);
      };
      // Reused by every plan: the tap is synchronous, so no two plans share it at once.
      const healthy: boolean[] = [];

      const noteHeldBack = (exchange: Exchange, attempts: readonly Attempt[], healthy: readonly boolean[], t: number): void => {
        let soonest = Number.POSITIVE_INFINITY;
        let rateLimited = true;
        for (let i = 0; i < attempts.length; i++) {
          if (healthy[i]) continue;
          const circuit = circuitOf(attempts[i]!.backend.id);
          soonest = Math.min(soonest, circuit.availableAt(t));
          rateLimited &&= circuit.rateLimited(t);
        }
        const retryAfterMs = soonest - t;
        const earlier = exchange.heldBack;
        exchange.heldBack = earlier === undefined ? { retryAfterMs, rateLimited } : { retryAfterMs: Math.min(earlier.retryAfterMs, retryAfterMs), rateLimited: earlier.rateLimited && rateLimited };
      };

      return {
        apply(hooks) {
          answerBackendStates(hooks, PLUGIN, (states) => {
            const t = now();
            for (const [backend, circuit] of circuits) {
              stateOf(states, backend).breaker = { state: circuit.state(t), rateLimited: circuit.rateLimited(t), availableInMs: circuit.availableAt(t) - t };
            }
          });
          hooks.attemptStarted.tap(PLUGIN, (_exchange, attempt) => {
            circuitOf(attempt.backend.id).started(now());
          });
          hooks.attemptFinished.tap(PLUGIN, (_exchange, outcome) => {
            const t = now();
            const circuit = circuitOf(outcome.backend);
            if (outcome.status === 429 && rateLimitCooldown) {
              circuit.coolFor(t, Math.min(outcome.retryAfterMs ?? rateLimitCooldownMs, maxRateLimitCooldownMs));
            }
            if (counts(outcome)) report(outcome.backend, circuit.failed(t), outcome);
            else if (outcome.failure === undefined || outcome.status !== undefined) report(outcome.backend, circuit.succeeded(t), outcome);
          });
          hooks.plan.tap(PLUGIN, (attempts, exchange) => {
            const t = now();
            let kept = 0;
            for (let i = 0; i < attempts.length; i++) {
              healthy[i] = circuitOf(attempts[i]!.backend.id).available(t);
              if (healthy[i]) kept++;
            }
            if (kept === attempts.length) return attempts;
            if (kept === 0 && !rejectWhenNone) return attempts;
            // Said whenever backends are left out: a later step may still empty the plan.
            if (kept === 0 || drop) noteHeldBack(exchange, attempts, healthy, t);
            if (kept === 0) return [];
            // Marked, so that a selector after this step spreads over the healthy ones only.
            return markHealthyPart(healthyFirst(attempts, healthy, drop ? kept : attempts.length), kept);
          });
        },
      };
    },
  });
}

export default healthBreakerPlugin();

/** The `on` list as one check: does this outcome count as a failure? */
function failureMatcher(rules: readonly FailureRule[]): (outcome: AttemptOutcome) => boolean {
  const kinds = new Set<string>();
  const statuses = new Uint8Array(600);
  for (const rule of rules) {
    if (typeof rule === "number") statuses[rule] = 1;
    else if (rule === "4xx" || rule === "5xx") statuses.fill(1, rule === "4xx" ? 400 : 500, rule === "4xx" ? 500 : 600);
    else kinds.add(rule);
  }
  return (outcome) => {
    const { failure, status } = outcome;
    if (failure !== undefined && failure !== "status" && kinds.has(failure)) return true;
    return status !== undefined && status < 600 && statuses[status] === 1;
  };
}

/** A new plan: healthy attempts in plan order, then the others in plan order, cut to `length`. */
function healthyFirst(attempts: readonly Attempt[], healthy: readonly boolean[], length: number): Attempt[] {
  const out: Attempt[] = new Array(length);
  let filled = 0;
  for (let i = 0; i < attempts.length; i++) if (healthy[i]) out[filled++] = attempts[i]!;
  for (let i = 0; i < attempts.length && filled < length; i++) if (!healthy[i]) out[filled++] = attempts[i]!;
  return out;
}
