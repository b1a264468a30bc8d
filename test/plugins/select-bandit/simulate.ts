/**
 * A bandit driven through its hooks by simulated backends: each request is planned, its first
 * attempt succeeds with the backend's set probability (drawn from a seeded source of its own, so
 * runs repeat exactly), and the request settles before the next one is planned.
 */
import type { Attempt, Backend, Predicate, StateStore } from "../../../core/index.js";
import { createMemoryStore } from "../../../lib/state/memory.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import { selectBanditPlugin } from "../../../plugins/select-bandit/index.js";
import { seededRandom } from "../../../plugins/select-bandit/sampling.js";

export interface SimulatedBackend {
  /** Probability that an attempt succeeds. */
  success: number;
  /** Time to first byte of its replies. */
  ttfbMs?: number;
}

export interface Bandit {
  /** Runs `count` requests; returns the backend each went to first. */
  run(count: number, backends: Record<string, SimulatedBackend>, init?: SimulatedRequest): Promise<string[]>;
  /** Plans one request without finishing it. */
  plan(init?: SimulatedRequest): Promise<string[]>;
}

/** What a simulated request carries besides its model. */
type SimulatedRequest = { tenant?: string; headers?: Record<string, string> };

export async function startBandit(
  ids: string[], config: Record<string, unknown>, store: StateStore = createMemoryStore(), outcomeSeed = 7, matchers: ReadonlyMap<string, Predicate> = new Map(),
): Promise<Bandit> {
  const backends = new Map<string, Backend>(ids.map((id) => [id, createTestBackend(id)]));
  const attempts: Attempt[] = ids.map((id) => ({ backend: backends.get(id)!, model: "m" }));
  const { hooks } = await createTestStep(selectBanditPlugin(), config, { backends, store, matchers });
  const outcomes = seededRandom(outcomeSeed);
  const plan = async (init: SimulatedRequest = {}) => (await hooks.plan.promise([...attempts], createTestExchange({ ...init, model: "m" }))).map((a) => a.backend.id);
  return {
    plan,
    async run(count, simulated, init = {}) {
      const firsts: string[] = [];
      for (let i = 0; i < count; i++) {
        const x = createTestExchange({ ...init, model: "m" });
        const planned = await hooks.plan.promise([...attempts], x);
        const id = planned[0]!.backend.id;
        firsts.push(id);
        const backend = simulated[id]!;
        const ok = outcomes() < backend.success;
        const ttfbMs = backend.ttfbMs ?? 100;
        hooks.attemptStarted.call(x, planned[0]!);
        hooks.attemptFinished.call(x, ok
          ? { backend: id, model: "m", status: 200, ttfbMs, latencyMs: ttfbMs + 50 }
          : { backend: id, model: "m", status: 503, failure: "status", ttfbMs, latencyMs: ttfbMs });
        if (ok) x.backend = id;
        await hooks.settle.promise(x);
      }
      return firsts;
    },
  };
}

/** The share of `id` among `firsts`. */
export const shareOf = (firsts: readonly string[], id: string): number => firsts.filter((f) => f === id).length / firsts.length;
