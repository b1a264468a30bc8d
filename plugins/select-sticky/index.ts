/**
 * select-sticky: session affinity by rendezvous (highest-random-weight) hashing. Each planned
 * backend gets a score hash(key, backend); the highest goes first, the rest follow by score.
 *
 * Why rendezvous rather than a hash ring with virtual nodes:
 * - the candidate set changes per request (an earlier health step filters, each model has its own
 *   backends); rendezvous ranks whatever set the plan holds, with no ring to rebuild or skip through;
 * - it yields a whole ranking, so a key's fallback order is sticky too: when its backend leaves the
 *   plan the key moves to its own second choice, and no other key moves (exactly that backend's
 *   ~1/N share) — a ring needs many virtual nodes to come close to that balance;
 * - the cost is one hash mix per planned backend, and a plan holds a handful of backends.
 */
import { definePlugin, GatewayError, type Attempt } from "../../core/index.js";
import { compileAffinityKey } from "./affinity-key.js";
import type { SelectStickyConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { spreadOverHealthy } from "../../lib/plan/held-back.js";

const PLUGIN = "select-sticky";

export default definePlugin<SelectStickyConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Send requests with the same key (session, tenant…) to the same backend by rendezvous hashing.",
  configSchema,
  create(config) {
    const key = compileAffinityKey(config.key, PLUGIN);
    const onMissing = config.missingKey ?? "round-robin";
    const backendHashes = new Map<string, number>();
    let turn = 0;
    // Reused by every plan: the tap is synchronous, so no two plans share it at once.
    const scores: number[] = [];

    const backendHash = (id: string): number => {
      let hash = backendHashes.get(id);
      if (hash === undefined) {
        hash = fmix32(fnv1a32(id));
        backendHashes.set(id, hash);
      }
      return hash;
    };
    const missingKey = (attempts: Attempt[]): Attempt[] => {
      if (onMissing === "first") return attempts;
      if (onMissing === "reject") {
        throw new GatewayError({
          status: 400,
          type: "invalid_request",
          code: "missing_affinity_key",
          param: key.param,
          source: PLUGIN,
          message: `this route needs a session key from the ${key.describe}, and the request has none`,
        });
      }
      return chosenThenPlanOrder(attempts, turn++ % attempts.length);
    };

    return {
      apply(hooks) {
        hooks.plan.tap(PLUGIN, spreadOverHealthy((attempts, exchange) => {
          const value = key.read(exchange);
          if (value === undefined) return attempts.length === 0 ? attempts : missingKey(attempts);
          if (attempts.length < 2) return attempts;
          const keyHash = fmix32(fnv1a32(value));
          return byDescendingScore(attempts, scores, keyHash, backendHash);
        }));
      },
    };
  },
});

/** A new plan sorted by rendezvous score, highest first, ties (a backend listed twice) in plan order. */
function byDescendingScore(attempts: readonly Attempt[], scores: number[], keyHash: number, backendHash: (id: string) => number): Attempt[] {
  const out: Attempt[] = new Array(attempts.length);
  for (let i = 0; i < attempts.length; i++) {
    const attempt = attempts[i]!;
    const score = fmix32(keyHash ^ backendHash(attempt.backend.id));
    // Insertion sort: plans are a handful of backends, and it is stable.
    let j = i;
    while (j > 0 && scores[j - 1]! < score) {
      out[j] = out[j - 1]!;
      scores[j] = scores[j - 1]!;
      j--;
    }
    out[j] = attempt;
    scores[j] = score;
  }
  return out;
}

function chosenThenPlanOrder(attempts: readonly Attempt[], chosen: number): Attempt[] {
  const out: Attempt[] = new Array(attempts.length);
  out[0] = attempts[chosen]!;
  let filled = 1;
  for (let i = 0; i < attempts.length; i++) if (i !== chosen) out[filled++] = attempts[i]!;
  return out;
}

/** FNV-1a over UTF-16 code units: fast, and good enough once fmix32 spreads its bits. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** MurmurHash3's finalizer: full avalanche, so hash(key) ^ hash(backend) scores behave as independent draws. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
