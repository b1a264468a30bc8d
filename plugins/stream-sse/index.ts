/**
 * stream-sse: turns streaming on for the pipeline and sets how streams are relayed. The relay
 * itself is the core's (it owns the attempt loop and the first-byte boundary); this step is the
 * policy ops choose per pipeline, or per request with `when`.
 */
import { definePlugin } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };
import type { StreamSseConfig } from "./config.generated.js";

const PLUGIN = "stream-sse";

export default definePlugin<StreamSseConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Streams replies as server-sent events with an idle timeout and keep-alive comments.",
  configSchema,
  create(config) {
    const idleTimeoutMs = config.idleTimeoutMs ?? 60_000;
    const keepAliveMs = config.keepAliveMs ?? 15_000;
    return {
      apply(hooks) {
        hooks.streamPolicy.tap(PLUGIN, (policy) => ({ ...policy, enabled: true, idleTimeoutMs, keepAliveMs }));
      },
    };
  },
});
