/**
 * select-random: the first backend drawn at random, uniformly or by weight; the rest of the plan
 * follows in its own order. Keeps no state between requests, so it spreads load the same way on
 * every gateway instance without a shared store.
 */
import { definePlugin, GatewayError, type Attempt, type Backend, type StepPlugin } from "../../core/index.js";
import type { SelectRandomConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { spreadOverHealthy } from "../../lib/plan/held-back.js";

const PLUGIN = "select-random";

export interface SelectRandomOptions {
  /** Returns a number in [0, 1); tests pass their own to steer the draw. */
  random?: () => number;
}

/** The plugin with its source of randomness; the default export uses Math.random. */
export function selectRandomPlugin(options: SelectRandomOptions = {}): StepPlugin<SelectRandomConfig> {
  const random = options.random ?? Math.random;
  return definePlugin<SelectRandomConfig>({
    kind: "step",
    name: PLUGIN,
    description: "Pick the first backend at random, uniformly or by weight; the rest follow in plan order.",
    configSchema,
    create(config, env) {
      const candidates = candidatesFromConfig(config.weights ?? {}, env.backends);
      let pass = 0;
      const candidateOf = (backend: Backend): Candidate => {
        let candidate = candidates.get(backend.id);
        if (candidate === undefined) {
          // A backend the pipeline did not list at create time cannot appear in a plan today; weigh it 1 rather than fail a request.
          candidate = { weight: 1, seenInPass: 0 };
          candidates.set(backend.id, candidate);
        }
        return candidate;
      };

      return {
        apply(hooks) {
          hooks.plan.tap(PLUGIN, spreadOverHealthy((attempts) => {
            if (attempts.length < 2) return attempts;
            pass++;
            // A backend listed twice in one plan (two models) takes part once, at its first place.
            let total = 0;
            for (let i = 0; i < attempts.length; i++) {
              const candidate = candidateOf(attempts[i]!.backend);
              if (candidate.seenInPass === pass) continue;
              candidate.seenInPass = pass;
              total += candidate.weight;
            }
            if (total === 0) return attempts.slice();
            pass++;
            let left = random() * total;
            let chosen = -1;
            for (let i = 0; i < attempts.length; i++) {
              const candidate = candidateOf(attempts[i]!.backend);
              if (candidate.seenInPass === pass || candidate.weight === 0) continue;
              candidate.seenInPass = pass;
              chosen = i;
              left -= candidate.weight;
              if (left < 0) break;
            }
            return chosenThenPlanOrder(attempts, chosen);
          }));
        },
      };
    },
  });
}

export default selectRandomPlugin();

interface Candidate {
  readonly weight: number;
  /** The pass over a plan this backend last took part in, so a backend listed twice in one plan counts once. */
  seenInPass: number;
}

function candidatesFromConfig(weights: Record<string, number>, backends: ReadonlyMap<string, Backend>): Map<string, Candidate> {
  for (const id of Object.keys(weights)) {
    if (!backends.has(id)) {
      throw new GatewayError({
        status: 500,
        type: "internal",
        code: "invalid_config",
        param: `/weights/${id}`,
        source: PLUGIN,
        message: `${PLUGIN}: weights names backend "${id}", which this pipeline does not have (backends: ${[...backends.keys()].join(", ") || "none"})`,
      });
    }
  }
  const candidates = new Map<string, Candidate>();
  for (const id of backends.keys()) candidates.set(id, { weight: weights[id] ?? 1, seenInPass: 0 });
  return candidates;
}

function chosenThenPlanOrder(attempts: readonly Attempt[], chosen: number): Attempt[] {
  const out: Attempt[] = new Array(attempts.length);
  out[0] = attempts[chosen]!;
  let filled = 1;
  for (let i = 0; i < attempts.length; i++) if (i !== chosen) out[filled++] = attempts[i]!;
  return out;
}
