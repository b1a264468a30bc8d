/**
 * OpenAI Realtime (`GET /v1/realtime?model=…`, the official SDK's OpenAIRealtimeWS and browsers
 * alike): the backend is chosen for the query's model before the client is accepted, so the
 * subprotocol the upstream picks is the one the client gets. Server events are read only as far as
 * usage needs: `response.created` starts a response, `response.done` carries its usage.
 */
import { GatewayError, type Answer, type EndpointIo, type Exchange, type IrUsage, type PipelineHooks } from "../../core/index.js";
import { socketAttempts, runSocketSession } from "../../lib/websocket/session.js";
import type { SessionCounter } from "../../lib/websocket/sessions.js";
import type { SessionRelay } from "../../lib/websocket/relay.js";
import { SessionMeter } from "./meter.js";
import { PLUGIN, finishSession, resolveModel, type RealtimeSettings } from "./session-model.js";

/** A browser sends its key as a subprotocol (`openai-insecure-api-key.<key>`): that key is the gateway's, never an upstream's. */
const KEY_PROTOCOL = /^openai-insecure-api-key\./;
/** Client headers the upstream needs: which protocol version it speaks. */
const PASSED_HEADERS = ["openai-beta"];

export async function serveOpenAiRealtime(x: Exchange, io: EndpointIo, hooks: PipelineHooks, settings: RealtimeSettings, counter: SessionCounter): Promise<Answer | "written"> {
  const model = x.inbound.query.model;
  if (typeof model !== "string" || model === "") throw GatewayError.invalidRequest("the model query parameter is required: /v1/realtime?model=<model>", "model", "missing_model");
  const resolved = await resolveModel(x, io, hooks, model);
  if (!Array.isArray(resolved)) return resolved;
  const headers: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = x.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  let relay: SessionRelay | undefined;
  const meter = new SessionMeter(x, hooks, () => relay, renderError);
  try {
    await runSocketSession(x, io, {
      attempts: socketAttempts(resolved, io.pipeline.id), headers, counter, source: PLUGIN,
      pathFor: (attempt) => `/realtime?model=${encodeURIComponent(attempt.model)}`,
      protocols: (offered) => offered.filter((p) => !KEY_PROTOCOL.test(p)),
      maxMessageBytes: settings.maxMessageBytes, idleTimeoutMs: settings.idleTimeoutMs,
      watch: (r) => {
        relay = r;
        return { fromUpstream: (data, isBinary) => readServerEvent(meter, data, isBinary) };
      },
    });
  } finally {
    await finishSession(x, meter);
  }
  return "written";
}

/** Only events that can carry usage are parsed: a cheap look at the type first, since audio deltas pass by the hundred. */
function readServerEvent(meter: SessionMeter, data: Buffer, isBinary: boolean): void {
  if (isBinary || data.length < 20) return;
  const head = data.subarray(0, 64).toString("latin1");
  const created = head.includes('"response.created"');
  if (!created && !head.includes('"response.done"')) return;
  let event: { type?: unknown; response?: { id?: unknown; usage?: Record<string, unknown> } };
  try {
    event = JSON.parse(data.toString("utf8"));
  } catch {
    return;
  }
  const id = typeof event.response?.id === "string" ? event.response.id : undefined;
  if (event.type === "response.created") meter.started(id);
  else if (event.type === "response.done") {
    const usage = usageOf(event.response?.usage);
    if (usage) meter.finished(usage, id);
  }
}

/** `response.done` usage: input tokens include cached ones, as IrUsage counts them. */
function usageOf(usage: Record<string, unknown> | undefined): IrUsage | undefined {
  if (usage === undefined || typeof usage.input_tokens !== "number" || typeof usage.output_tokens !== "number") return undefined;
  const details = usage.input_token_details as { cached_tokens?: unknown } | undefined;
  const cached = typeof details?.cached_tokens === "number" ? details.cached_tokens : undefined;
  return { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, ...(cached ? { cachedReadTokens: cached } : {}) };
}

/** An error event as the Realtime API sends one. */
function renderError(err: GatewayError): string {
  return JSON.stringify({ type: "error", event_id: `event_${err.code}`, error: { type: err.type === "invalid_request" ? "invalid_request_error" : err.type, code: err.code, message: err.message, param: err.param ?? null, event_id: null } });
}
