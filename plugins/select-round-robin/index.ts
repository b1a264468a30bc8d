/**
 * select-round-robin: spreads requests over the backends that can serve them.
 * The worked example of a step plugin: a name, a schema, `create` building per-instance state,
 * and `apply` registering one tap. Work happens only when the hook fires.
 */
import { definePlugin, type Attempt } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { spreadOverHealthy } from "../../lib/plan/held-back.js";
import { answerDryRun } from "../../lib/explain/dry-run.js";

const PLUGIN = "select-round-robin";

export default definePlugin({
  kind: "step",
  name: PLUGIN,
  description: "Rotates the planned backends so successive requests start at successive backends; the rest stay as fallbacks.",
  configSchema,
  create(_config, env) {
    // One counter per candidate list: requests for gpt-4o and for claude-* are served by different
    // backend sets, and each set must rotate on its own. The lists come from the pipeline file, so
    // there are few of them and the map stays small. (Per process: instances do not share counters.)
    const nextStart = new Map<string, number>();

    const rotate = (attempts: Attempt[], advance: boolean): Attempt[] => {
      if (attempts.length < 2) return attempts;
      const key = attempts.map((a) => a.backend.id).join("\n");
      const start = nextStart.get(key) ?? 0;
      if (advance) nextStart.set(key, (start + 1) % attempts.length);
      // Rotate rather than pick one: the other backends stay behind, in order, as fallbacks.
      return [...attempts.slice(start), ...attempts.slice(0, start)];
    };

    return {
      apply(hooks) {
        hooks.plan.tap(PLUGIN, spreadOverHealthy((attempts) => rotate(attempts, true)));
        // explain: the same rotation, without moving the counter on.
        answerDryRun(hooks, env.id, ({ phase, plan }, x) => {
          if (phase !== "plan" || !plan) return undefined;
          const next = spreadOverHealthy((attempts) => rotate(attempts, false))(plan as Attempt[], x);
          return { says: [`next in rotation: ${next[0]?.backend.id ?? "none"}`], plan: next };
        });
      },
    };
  },
});
