/**
 * select-fallback: a fixed order of preference over the pipeline's backends (primary, then
 * fallbacks). The core's attempt loop does the falling back; this step only orders the plan.
 */
import { definePlugin, type Attempt } from "../../core/index.js";
import type { SelectFallbackConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "select-fallback";

export default definePlugin<SelectFallbackConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Orders the planned backends by a fixed preference list; unlisted ones follow, or are dropped when exclusive.",
  configSchema,
  create(config, env) {
    // A typo in `order` would silently never match and quietly change routing, so it fails the load.
    const unknown = config.order.filter((id) => !env.backends.has(id));
    if (unknown.length > 0) {
      const known = [...env.backends.keys()].join(", ") || "none";
      throw new Error(`${PLUGIN}: order names ${unknown.map((id) => `"${id}"`).join(", ")}, not a backend of pipeline "${env.pipelineId}" (backends: ${known})`);
    }
    const rank = new Map(config.order.map((id, i) => [id, i]));
    const unlisted = config.order.length;
    const exclusive = config.exclusive ?? false;

    return {
      apply(hooks) {
        hooks.plan.tap(PLUGIN, (attempts: Attempt[]) => {
          const kept = exclusive ? attempts.filter((a) => rank.has(a.backend.id)) : attempts.slice();
          // Array.sort is stable: unlisted backends (all ranked last) keep their file order.
          return kept.sort((a, b) => (rank.get(a.backend.id) ?? unlisted) - (rank.get(b.backend.id) ?? unlisted));
        });
      },
    };
  },
});
