/**
 * select-least-busy: the backend with the fewest attempts in flight goes first. Counting runs on
 * the attempt hooks (+1 when an attempt is sent, -1 when it is over: failed, or its body fully
 * relayed), so a long stream counts for as long as it holds the backend. Equally busy backends
 * take turns: the one picked least recently wins, which is round-robin when all are idle.
 */
import { definePlugin, type Attempt } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { spreadOverHealthy } from "../../lib/plan/held-back.js";

const PLUGIN = "select-least-busy";

interface Load {
  inFlight: number;
  /** The plan in which this backend was last picked first (0 = never), for turn-taking among ties. */
  pickedInPlan: number;
}

export default definePlugin({
  kind: "step",
  name: PLUGIN,
  description: "Pick the backend with the fewest requests in flight; ties take turns.",
  configSchema,
  create(_config, env) {
    const loads = new Map<string, Load>();
    for (const id of env.backends.keys()) loads.set(id, { inFlight: 0, pickedInPlan: 0 });
    let plans = 0;

    const loadOf = (id: string): Load => {
      let load = loads.get(id);
      if (load === undefined) {
        load = { inFlight: 0, pickedInPlan: 0 };
        loads.set(id, load);
      }
      return load;
    };
    const inFlightOf = (attempt: Attempt): number => loadOf(attempt.backend.id).inFlight;

    return {
      apply(hooks) {
        hooks.attemptStarted.tap(PLUGIN, (_exchange, attempt) => {
          loadOf(attempt.backend.id).inFlight++;
        });
        hooks.attemptFinished.tap(PLUGIN, (_exchange, outcome) => {
          const load = loadOf(outcome.backend);
          // Never below zero: a finish without a start (the step's `when` matched only one of the two) must not make a backend look idler than idle.
          if (load.inFlight > 0) load.inFlight--;
        });
        hooks.plan.tap(PLUGIN, spreadOverHealthy((attempts) => {
          if (attempts.length < 2) return attempts;
          plans++;
          let chosen = 0;
          let best = loadOf(attempts[0]!.backend.id);
          for (let i = 1; i < attempts.length; i++) {
            const load = loadOf(attempts[i]!.backend.id);
            if (load.inFlight < best.inFlight || (load.inFlight === best.inFlight && load.pickedInPlan < best.pickedInPlan)) {
              best = load;
              chosen = i;
            }
          }
          best.pickedInPlan = plans;
          return chosenThenLeastBusy(attempts, chosen, inFlightOf);
        }));
      },
    };
  },
});

/** A new plan: the chosen attempt first, then the others by ascending in-flight count, ties in plan order. */
function chosenThenLeastBusy(attempts: readonly Attempt[], chosen: number, inFlightOf: (a: Attempt) => number): Attempt[] {
  const out: Attempt[] = new Array(attempts.length);
  out[0] = attempts[chosen]!;
  let filled = 1;
  for (let i = 0; i < attempts.length; i++) {
    if (i === chosen) continue;
    const attempt = attempts[i]!;
    const inFlight = inFlightOf(attempt);
    // Insertion sort: plans are a handful of backends, and it is stable without a copy.
    let j = filled;
    while (j > 1 && inFlightOf(out[j - 1]!) > inFlight) {
      out[j] = out[j - 1]!;
      j--;
    }
    out[j] = attempt;
    filled++;
  }
  return out;
}
