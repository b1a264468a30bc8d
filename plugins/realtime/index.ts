/**
 * realtime: the WebSocket model APIs through the gateway's keys, limits, records and drain.
 * `openai-realtime` routes speak OpenAI Realtime (openai-realtime.ts) to OpenAI-compatible and
 * Azure backends, `gemini-live` routes speak Gemini Live (gemini-live.ts) to Gemini backends;
 * both meter each response while the session runs (meter.ts) and relay through lib/websocket.
 */
import { definePlugin } from "../../core/index.js";
import { SessionCounter } from "../../lib/websocket/sessions.js";
import type { RealtimeConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { serveGeminiLive } from "./gemini-live.js";
import { serveOpenAiRealtime } from "./openai-realtime.js";
import { PLUGIN, type RealtimeSettings } from "./session-model.js";

export default definePlugin<RealtimeConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Answers WebSocket model APIs: OpenAI Realtime (GET /v1/realtime?model=) and Gemini Live (BidiGenerateContent), metered per response while the session runs.",
  configSchema,
  endpoints: {
    "openai-realtime": { description: "an OpenAI Realtime WebSocket session (GET /v1/realtime?model=…)", body: "handler", formats: ["openai-chat", "openai-responses"] },
    "gemini-live": { description: "a Gemini Live WebSocket session (…GenerativeService.BidiGenerateContent)", body: "handler", formats: ["gemini"] },
  },
  create(config, env) {
    const settings: RealtimeSettings = {
      idleTimeoutMs: config.idleTimeoutMs ?? 600_000,
      maxMessageBytes: config.maxMessageBytes ?? 16_777_216,
      setupTimeoutMs: config.setupTimeoutMs ?? 10_000,
    };
    const sessions = new SessionCounter();
    return {
      apply(hooks) {
        hooks.endpoint.for("openai-realtime").tapPromise(PLUGIN, (exchange, io) => serveOpenAiRealtime(exchange, io, hooks, settings, sessions));
        hooks.endpoint.for("gemini-live").tapPromise(PLUGIN, (exchange, io) => serveGeminiLive(exchange, io, hooks, settings, sessions));
        sessions.answer(hooks, env.id);
      },
    };
  },
});
