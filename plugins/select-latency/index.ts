/**
 * select-latency: power of two random choices over a peak-EWMA latency estimate, after Finagle's
 * `Balancers.p2cPeakEwma` and linkerd's `PeakEwma`. Comparing two random backends (instead of
 * always taking the best) keeps a herd of requests from all landing on the backend that looked
 * fastest a moment ago; multiplying by in-flight + 1 prices the queue a new request would join.
 */
import { definePlugin, type Attempt, type AttemptOutcome, type StepPlugin } from "../../core/index.js";
import type { SelectLatencyConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { spreadOverHealthy } from "../../lib/plan/held-back.js";

const PLUGIN = "select-latency";

/** Finagle's penalty for a backend with no history that is already busy: worse than any measured cost. */
const UNMEASURED_BUSY = Number.MAX_SAFE_INTEGER / 2;

export interface SelectLatencyOptions {
  /** Monotonic milliseconds; tests pass a clock they move by hand. */
  now?: () => number;
  /** Returns a number in [0, 1); tests pass their own to steer the two draws. */
  random?: () => number;
}

class LatencyEstimate {
  inFlight = 0;
  measured = false;
  /** Peak-EWMA latency in ms, as of `stamp`. */
  private cost = 0;
  private stamp = 0;

  constructor(private readonly decayMs: number) {}

  /**
   * Finagle's `observe`: a sample above the estimate replaces it, one below is blended in by how
   * long ago the last observation was. Reading the cost observes 0, which is what makes an idle
   * backend's estimate decay toward zero so that it gets tried again.
   */
  observe(sampleMs: number, now: number): void {
    const weight = Math.exp(-Math.max(now - this.stamp, 0) / this.decayMs);
    this.cost = sampleMs > this.cost ? sampleMs : this.cost * weight + sampleMs * (1 - weight);
    this.stamp = now;
  }

  load(now: number): number {
    this.observe(0, now);
    if (!this.measured) return this.inFlight === 0 ? 0 : UNMEASURED_BUSY + this.inFlight;
    return this.cost * (this.inFlight + 1);
  }
}

/** The plugin with its clock and randomness; the default export uses performance.now and Math.random. */
export function selectLatencyPlugin(options: SelectLatencyOptions = {}): StepPlugin<SelectLatencyConfig> {
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  return definePlugin<SelectLatencyConfig>({
    kind: "step",
    name: PLUGIN,
    description: "Pick the faster of two random backends by peak-EWMA latency x in-flight (Finagle's P2C).",
    configSchema,
    create(config, env) {
      const decayMs = config.decayMs ?? 10_000;
      const failurePenaltyMs = config.failurePenaltyMs ?? 30_000;
      const estimates = new Map<string, LatencyEstimate>();
      for (const id of env.backends.keys()) estimates.set(id, new LatencyEstimate(decayMs));
      const estimateOf = (id: string): LatencyEstimate => {
        let estimate = estimates.get(id);
        if (estimate === undefined) {
          estimate = new LatencyEstimate(decayMs);
          estimates.set(id, estimate);
        }
        return estimate;
      };
      // Reused by every plan: the tap is synchronous, so no two plans share it at once.
      const loads: number[] = [];
      const sortedLoads: number[] = [];

      return {
        apply(hooks) {
          hooks.attemptStarted.tap(PLUGIN, (_exchange, attempt) => {
            estimateOf(attempt.backend.id).inFlight++;
          });
          hooks.attemptFinished.tap(PLUGIN, (_exchange, outcome) => {
            const estimate = estimateOf(outcome.backend);
            if (estimate.inFlight > 0) estimate.inFlight--;
            estimate.observe(sampleOf(outcome, failurePenaltyMs), now());
            estimate.measured = true;
          });
          hooks.plan.tap(PLUGIN, spreadOverHealthy((attempts) => {
            const n = attempts.length;
            if (n < 2) return attempts;
            const t = now();
            let unmeasuredIdle = -1;
            for (let i = 0; i < n; i++) {
              const estimate = estimateOf(attempts[i]!.backend.id);
              loads[i] = estimate.load(t);
              if (unmeasuredIdle === -1 && !estimate.measured && estimate.inFlight === 0) unmeasuredIdle = i;
            }
            let chosen = unmeasuredIdle;
            if (chosen === -1) {
              const first = n === 2 ? 0 : Math.floor(random() * n);
              let second = n === 2 ? 1 : Math.floor(random() * (n - 1));
              if (n > 2 && second >= first) second++;
              chosen = loads[second]! < loads[first]! ? second : first;
            }
            return chosenThenCheapest(attempts, chosen, loads, sortedLoads);
          }));
        },
      };
    },
  });
}

export default selectLatencyPlugin();

/** The latency an outcome stands for: its time to headers, or the whole attempt, raised to the penalty when the backend failed. */
function sampleOf(outcome: AttemptOutcome, failurePenaltyMs: number): number {
  const latency = outcome.ttfbMs ?? outcome.latencyMs;
  if (outcome.failure === undefined) return latency;
  const status = outcome.status;
  const clientsFault = status !== undefined && status >= 400 && status < 500 && status !== 429;
  return clientsFault ? latency : Math.max(latency, failurePenaltyMs);
}

/** A new plan: the chosen attempt first, then the others by ascending load, ties in plan order. */
function chosenThenCheapest(attempts: readonly Attempt[], chosen: number, loads: readonly number[], outLoads: number[]): Attempt[] {
  const out: Attempt[] = new Array(attempts.length);
  out[0] = attempts[chosen]!;
  let filled = 1;
  for (let i = 0; i < attempts.length; i++) {
    if (i === chosen) continue;
    const load = loads[i]!;
    // Insertion sort: plans are a handful of backends, and it is stable.
    let j = filled;
    while (j > 1 && outLoads[j - 1]! > load) {
      out[j] = out[j - 1]!;
      outLoads[j] = outLoads[j - 1]!;
      j--;
    }
    out[j] = attempts[i]!;
    outLoads[j] = load;
    filled++;
  }
  return out;
}
