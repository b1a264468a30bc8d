/**
 * select-weighted: smooth weighted round-robin, exactly as nginx's upstream module picks a peer.
 * Each pick adds every candidate's weight to its running score, takes the highest score and
 * lowers it by the candidates' total weight. Weights 5,1,1 give `a a b a c a a`: spread out rather
 * than bursty, deterministic, and exact over every full cycle.
 *
 * Scores live per backend, as nginx keeps them per peer: a backend missing from one plan (filtered
 * by a health step, or not serving that model) keeps its score and rejoins where it left off.
 */
import { definePlugin, GatewayError, type Attempt, type Backend } from "../../core/index.js";
import type { SelectWeightedConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { spreadOverHealthy } from "../../lib/plan/held-back.js";
import { answerDryRun } from "../../lib/explain/dry-run.js";

const PLUGIN = "select-weighted";

interface Peer {
  readonly weight: number;
  /** nginx's `current_weight`. */
  current: number;
  /** The pick this peer last took part in, so a backend listed twice in one plan counts once. */
  seenInPick: number;
}

export default definePlugin<SelectWeightedConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Pick the first backend by smooth weighted round-robin (nginx's algorithm); the rest follow by weight.",
  configSchema,
  create(config, env) {
    const peers = peersFromConfig(config.weights ?? {}, env.backends);
    let pick = 0;

    const peerOf = (backend: Backend): Peer => {
      let peer = peers.get(backend.id);
      if (peer === undefined) {
        // A backend the pipeline did not list at create time cannot appear in a plan today; weigh it 1 rather than fail a request.
        peer = { weight: 1, current: 0, seenInPick: 0 };
        peers.set(backend.id, peer);
      }
      return peer;
    };
    const weightOf = (attempt: Attempt): number => peerOf(attempt.backend).weight;

    return {
      apply(hooks) {
        hooks.plan.tap(PLUGIN, spreadOverHealthy((attempts) => {
          if (attempts.length < 2) return attempts;
          pick++;
          let total = 0;
          let best: Peer | undefined;
          let bestIndex = -1;
          for (let i = 0; i < attempts.length; i++) {
            const peer = peerOf(attempts[i]!.backend);
            if (peer.seenInPick === pick || peer.weight === 0) continue;
            peer.seenInPick = pick;
            peer.current += peer.weight;
            total += peer.weight;
            if (best === undefined || peer.current > best.current) {
              best = peer;
              bestIndex = i;
            }
          }
          if (best === undefined) return attempts.slice();
          best.current -= total;
          return chosenThenByWeight(attempts, bestIndex, weightOf);
        }));
        // explain: the pick the next plan would make, with the scores left as they are.
        answerDryRun(hooks, env.id, ({ phase, plan }, x) => {
          if (phase !== "plan" || !plan) return undefined;
          const scores: Record<string, { weight: number; score: number }> = {};
          const next = spreadOverHealthy((attempts) => {
            if (attempts.length < 2) return attempts;
            let bestIndex = -1;
            for (let i = 0; i < attempts.length; i++) {
              const peer = peerOf(attempts[i]!.backend);
              if (peer.weight === 0 || attempts[i]!.backend.id in scores) continue;
              scores[attempts[i]!.backend.id] = { weight: peer.weight, score: peer.current + peer.weight };
              if (bestIndex < 0 || peer.current + peer.weight > scores[attempts[bestIndex]!.backend.id]!.score) bestIndex = i;
            }
            return bestIndex < 0 ? attempts.slice() : chosenThenByWeight(attempts, bestIndex, weightOf);
          })(plan as Attempt[], x);
          const listed = Object.entries(scores).map(([id, s]) => `${id} weight ${s.weight} score ${s.score}`).join(", ");
          return { says: [`picks ${next[0]?.backend.id ?? "none"} (${listed || "one candidate"})`], plan: next, detail: { scores } };
        });
      },
    };
  },
});

function peersFromConfig(weights: Record<string, number>, backends: ReadonlyMap<string, Backend>): Map<string, Peer> {
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
  const peers = new Map<string, Peer>();
  for (const id of backends.keys()) peers.set(id, { weight: weights[id] ?? 1, current: 0, seenInPick: 0 });
  return peers;
}

/** A new plan: the chosen attempt first, then the others by descending weight, ties in plan order. */
function chosenThenByWeight(attempts: readonly Attempt[], chosen: number, weightOf: (a: Attempt) => number): Attempt[] {
  const out: Attempt[] = new Array(attempts.length);
  out[0] = attempts[chosen]!;
  let filled = 1;
  for (let i = 0; i < attempts.length; i++) {
    if (i === chosen) continue;
    const attempt = attempts[i]!;
    const weight = weightOf(attempt);
    // Insertion sort: plans are a handful of backends, and it is stable without a copy.
    let j = filled;
    while (j > 1 && weightOf(out[j - 1]!) < weight) {
      out[j] = out[j - 1]!;
      j--;
    }
    out[j] = attempt;
    filled++;
  }
  return out;
}
