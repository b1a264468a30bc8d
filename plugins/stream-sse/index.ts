/**
 * stream-sse: turns streaming on for the pipeline and relays streams as server-sent events
 * (relay.ts), with an idle timeout and keep-alive comments. The core owns everything up to the
 * first upstream chunk (the attempt loop may still fall back); this step carries the stream from
 * there, as ops choose per pipeline, or per request with `when`.
 */
import { definePlugin, type StreamRelay } from "../../core/index.js";
import type { StreamSseConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { relayStream } from "./relay.js";

const PLUGIN = "stream-sse";

export default definePlugin<StreamSseConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Streams replies as server-sent events with an idle timeout and keep-alive comments.",
  configSchema,
  create(config) {
    const idleTimeoutMs = config.idleTimeoutMs ?? 60_000;
    const keepAliveMs = config.keepAliveMs ?? 15_000;
    const relay: StreamRelay = (body, res, commit, makeTarget) => relayStream(body, res, commit, makeTarget, keepAliveMs);
    return {
      apply(hooks) {
        // A request whose reply is kept (a record step digests answers) gets a relay of its own that keeps what it writes.
        hooks.streamPolicy.tap(PLUGIN, (_policy, x) => {
          const kept = x.reply;
          if (kept === undefined) return { idleTimeoutMs, relay };
          return { idleTimeoutMs, relay: (body, res, commit, makeTarget) => relayStream(body, res, commit, makeTarget, keepAliveMs, kept) };
        });
      },
    };
  },
});
