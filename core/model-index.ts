/**
 * Model -> backends, built once at load. Exact names are a Map lookup; glob patterns are compiled
 * once and their answer for each model name is cached (bounded), so a request costs O(1).
 */
import type { Attempt, Backend } from "./exchange.js";

export interface ModelIndex {
  /** The attempts for `model`, every serving backend in file order; a fresh array the caller may reorder. */
  attemptsFor(model: string): Attempt[];
  /** Every concrete model name the backends list (globs excluded), for model listings. */
  listed(): { model: string; backend: string }[];
}

const CACHE_LIMIT = 10_000;

export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

export function createModelIndex(backends: Backend[]): ModelIndex {
  const patterns = backends.flatMap((backend, order) =>
    backend.models.map((pattern) => ({ backend, order, pattern, test: pattern.includes("*") ? globToRegExp(pattern) : undefined })),
  );
  const cache = new Map<string, readonly Attempt[]>();

  const compute = (model: string): readonly Attempt[] => {
    const seen = new Set<Backend>();
    const attempts: Attempt[] = [];
    for (const p of patterns) {
      if (seen.has(p.backend)) continue;
      if (p.test ? p.test.test(model) : p.pattern === model) {
        seen.add(p.backend);
        attempts.push(Object.freeze({ backend: p.backend, model: p.backend.modelMap[model] ?? model }));
      }
    }
    return Object.freeze(attempts);
  };

  return {
    attemptsFor(model) {
      let hit = cache.get(model);
      if (!hit) {
        hit = compute(model);
        // Client-chosen names fill this cache: cap it so a flood of distinct names cannot grow memory.
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(model, hit);
      }
      return hit.slice();
    },
    listed() {
      return patterns.filter((p) => !p.test).map((p) => ({ model: p.pattern, backend: p.backend.id }));
    },
  };
}
