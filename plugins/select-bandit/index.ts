/**
 * select-bandit: routing that learns. Each planned backend (with its model) is an arm; every
 * attempt's outcome, and explicit feedback, is a reward in [0, 1]; Thompson sampling or UCB1 puts
 * one arm first and the rest behind it as fallbacks. Statistics are shared through the
 * pipeline's store and decay, so traffic follows a backend that degrades or recovers.
 * The same step serves routes with `"endpoint": "feedback"` (feedback.ts).
 */
import { definePlugin, type Attempt, type AttemptOutcome, type Exchange, type StepPlugin } from "../../core/index.js";
import { rejoinHealthy, splitHealthy } from "../../lib/plan/held-back.js";
import { ArmStats } from "./arm-stats.js";
import { answerDryRun } from "../../lib/explain/dry-run.js";
import { armShares, blendWithGlobal, orderArms, type Chooser } from "./choose.js";
import type { SelectBanditConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { ContextAdmission, GLOBAL_CONTEXT, contextKey } from "./context.js";
import { PLUGIN, answerFeedback, type ServedNote } from "./feedback.js";
import { attemptReward, isClientFault, rewardBlend } from "./reward.js";
import { seededRandom, type RandomSource } from "./sampling.js";

export interface SelectBanditOptions {
  /** Returns a number in [0, 1); overrides the config's seed (simulations drive their own). */
  random?: RandomSource;
  /** Epoch milliseconds, for half-lives in ms; tests move it by hand. */
  now?: () => number;
}

/** What the bandit remembers about one request between its plan and its settle. */
interface Routed {
  /** The contexts its observations count in: its own (when admitted) and the global one. */
  contexts: string[];
  outcomes: AttemptOutcome[];
}

/** An arm: a backend with the model it is asked for (one backend may serve a group's models differently). */
export const armOf = (backend: string, model: string): string => `${encodeURIComponent(backend)}@${encodeURIComponent(model)}`;

export function selectBanditPlugin(options: SelectBanditOptions = {}): StepPlugin<SelectBanditConfig> {
  return definePlugin<SelectBanditConfig>({
    kind: "step",
    name: PLUGIN,
    description: "Learns which backend serves best (Thompson sampling or UCB1 over success, latency, cost and feedback) and takes feedback on feedback routes.",
    configSchema,
    endpoints: { feedback: { description: "feedback on a finished request: { request_id, score | value, label? }", body: "json" } },
    create(config, env) {
      const now = options.now ?? Date.now;
      const random = options.random ?? (config.seed === undefined ? Math.random : seededRandom(config.seed));
      const chooser: Chooser = { strategy: config.strategy ?? "thompson", ucbScale: config.ucbScale ?? 1, explore: config.explore ?? 0.05, random };
      const blend = rewardBlend(config.reward);
      const retainMs = config.retainMs ?? 604_800_000;
      const feedbackTtlMs = config.feedbackTtlMs ?? 86_400_000;
      const minContextObservations = config.minContextObservations ?? 20;
      const contextOf = contextKey(config.contextBy ?? [], config.promptLengthBuckets ?? [2000, 20000], env.matchers, env.id);
      const prefix = `bandit:${env.pipelineId}:${env.id}:`;
      const stats = new ArmStats(env.store, prefix, config.halfLife ?? { unit: "requests", amount: 200 }, retainMs, config.refreshMs ?? 250, now);
      const admission = new ContextAdmission(env.store, prefix, config.maxContexts ?? 1000, retainMs);
      const routed = new WeakMap<Exchange, Routed>();

      async function contextsOf(x: Exchange): Promise<string[]> {
        const context = contextOf(x);
        return context !== GLOBAL_CONTEXT && (await admission.admit(context)) ? [context, GLOBAL_CONTEXT] : [GLOBAL_CONTEXT];
      }

      async function learn(x: Exchange, seen: Routed): Promise<void> {
        for (const outcome of seen.outcomes) {
          if (isClientFault(outcome)) continue;
          const servedThis = outcome.failure === undefined && outcome.backend === x.backend;
          const reward = attemptReward(blend, outcome, servedThis ? x.costUsd : undefined);
          if (reward === undefined) continue;
          const arm = armOf(outcome.backend, outcome.model);
          await Promise.all(seen.contexts.map((context) => stats.observe(context, arm, 1 - blend.feedbackShare, reward)));
        }
        const served = seen.outcomes.find((o) => o.failure === undefined && o.backend === x.backend);
        if (blend.feedbackShare > 0 && served !== undefined) {
          const note: ServedNote = { tenant: x.tenant ?? null, arm: armOf(served.backend, served.model), backend: served.backend, contexts: seen.contexts };
          await env.store.set(`${prefix}req:${x.id}`, JSON.stringify(note), feedbackTtlMs);
        }
      }

      return {
        apply(hooks) {
          hooks.plan.tapPromise(PLUGIN, async (plan, x) => {
            // After a health step, the bandit chooses among the healthy backends only; the held-back ones stay behind.
            const [attempts, heldBack] = splitHealthy(plan);
            try {
              const contexts = await contextsOf(x);
              routed.set(x, { contexts, outcomes: [] });
              if (attempts.length < 2) return plan;
              const arms = attempts.map((a) => armOf(a.backend.id, a.model));
              const global = await stats.evidence(GLOBAL_CONTEXT, arms);
              const local = contexts.length > 1 ? await stats.evidence(contexts[0]!, arms) : global;
              const evidence = arms.map((arm) => (local === global ? global.get(arm)! : blendWithGlobal(local.get(arm), global.get(arm), minContextObservations)));
              return rejoinHealthy(orderArms(evidence, chooser).map((i) => attempts[i]!), heldBack);
            } catch (err) {
              // Learning must never cost a request: without the store the plan goes on as it came.
              env.log.warn({ request: x.id, err: String(err) }, `${PLUGIN}: statistics unavailable, plan left in file order`);
              return plan;
            }
          });
          // explain: each arm's estimate and share; the plan goes on as it came (a draw would advance the chooser's sequence).
          answerDryRun(hooks, env.id, async ({ phase, plan }, x) => {
            if (phase !== "plan" || !plan) return undefined;
            const [attempts] = splitHealthy(plan as Attempt[]);
            if (attempts.length < 2) return { says: ["one healthy arm: nothing to choose"], plan: plan as Attempt[] };
            const context = contextOf(x);
            const arms = attempts.map((a) => armOf(a.backend.id, a.model));
            const global = await stats.evidence(GLOBAL_CONTEXT, arms);
            const local = context === GLOBAL_CONTEXT ? global : await stats.evidence(context, arms);
            const evidence = arms.map((arm) => (local === global ? global.get(arm)! : blendWithGlobal(local.get(arm), global.get(arm), minContextObservations)));
            const shares = armShares(evidence, chooser, seededRandom(1));
            const rows = attempts.map((a, i) => ({ arm: `${a.backend.id}@${a.model}`, observations: evidence[i]!.n, estimate: shares[i]!.estimate, share: shares[i]!.share }));
            const says = [`${chooser.strategy} over ${rows.length} arms (context ${context === GLOBAL_CONTEXT ? "global" : context}); the first is drawn per request`];
            for (const r of rows) says.push(`${r.arm}: estimate ${r.estimate.toFixed(3)} over ${r.observations.toFixed(1)} observations, share ${(100 * r.share).toFixed(1)}%`);
            return { says, plan: plan as Attempt[], detail: { strategy: chooser.strategy, context, arms: rows } };
          });
          hooks.attemptFinished.tap(PLUGIN, (x, outcome) => {
            routed.get(x)?.outcomes.push({ ...outcome });
          });
          // Settle, not attemptFinished: the price (for the cost term) is known by then, and the store's writes can be awaited.
          hooks.settle.tapPromise(PLUGIN, async (x) => {
            const seen = routed.get(x);
            if (seen === undefined || seen.outcomes.length === 0) return;
            routed.delete(x);
            await learn(x, seen);
          });
          hooks.endpoint.for("feedback").tapPromise(PLUGIN, (x) => answerFeedback(x, env.store, stats, blend, prefix, feedbackTtlMs));
        },
      };
    },
  });
}

export default selectBanditPlugin();
