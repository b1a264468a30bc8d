/** Model -> backends, built once at load; each model name's answer is cached (bounded), so a request costs O(1). */
import type { ModelIndex } from "../contract/endpoint.js";
import type { Attempt, Backend } from "../contract/exchange.js";
import { compileGlob } from "../contract/glob.js";

const CACHE_LIMIT = 10_000;

/** Alias name -> target model names (a string alias is a group of one). */
export type ModelAliases = Readonly<Record<string, string | readonly string[]>>;

export function createModelIndex(backends: Backend[], aliases: ModelAliases = {}): ModelIndex {
  const patterns = backends.flatMap((backend, order) =>
    // `*` alone (also the default) is every model, `/` included (org/model names on OpenAI-compatible servers).
    backend.models.map((pattern) => ({ backend, order, pattern, test: pattern === "*" ? () => true : pattern.includes("*") ? compileGlob(pattern) : undefined })),
  );
  const cache = new Map<string, readonly Attempt[]>();
  const concrete = [...new Set(patterns.filter((p) => !p.test).map((p) => p.pattern))];
  // Group targets with * expand once, at load, over the concrete names the backends list.
  const groups = new Map<string, string[]>();
  for (const [alias, target] of Object.entries(aliases)) {
    const targets = typeof target === "string" ? [target] : target;
    groups.set(alias, [...new Set(targets.flatMap((t) => (t.includes("*") ? concrete.filter(compileGlob(t)) : [t])))]);
  }

  const backendsFor = (model: string): Attempt[] => {
    const seen = new Set<Backend>();
    const attempts: Attempt[] = [];
    for (const p of patterns) {
      if (seen.has(p.backend)) continue;
      if (p.test ? p.test(model) : p.pattern === model) {
        seen.add(p.backend);
        attempts.push(Object.freeze({ backend: p.backend, model: p.backend.modelMap[model] ?? model }));
      }
    }
    return attempts;
  };
  const compute = (model: string): readonly Attempt[] => {
    const targets = groups.get(model);
    return Object.freeze(targets ? targets.flatMap(backendsFor) : backendsFor(model));
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
      const direct = patterns.filter((p) => !p.test && !groups.has(p.pattern)).map((p) => ({ model: p.pattern, backend: p.backend.id }));
      const viaAlias = [...groups].filter(([, targets]) => targets.length > 0).map(([alias]) => ({ model: alias, backend: "switchyard" }));
      return [...direct, ...viaAlias];
    },
  };
}
