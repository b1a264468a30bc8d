/**
 * Gemini Live (`…BidiGenerateContent`): the model comes in the client's first message
 * (`setup.model`), so the client is accepted first, its setup read, and only then a backend chosen
 * and opened; the setup goes on with the backend's model name. A refusal after the upgrade is an
 * error message, then a close frame with 1008 (as Live itself refuses), or 1011 when no backend
 * could be reached. Usage comes as `usageMetadata` at the end of each turn.
 */
import type WebSocket from "ws";
import { GatewayError, type Answer, type EndpointIo, type Exchange, type IrUsage, type PipelineHooks } from "../../core/index.js";
import { acceptClient } from "../../lib/websocket/accept.js";
import { handshakeRefusal } from "../../lib/websocket/handshake.js";
import type { SessionRelay } from "../../lib/websocket/relay.js";
import { connectUpstream, relayUntilClosed, socketAttempts } from "../../lib/websocket/session.js";
import type { SessionCounter } from "../../lib/websocket/sessions.js";
import { SessionMeter } from "./meter.js";
import { PLUGIN, finishSession, resolveModel, type RealtimeSettings } from "./session-model.js";

export async function serveGeminiLive(x: Exchange, io: EndpointIo, hooks: PipelineHooks, settings: RealtimeSettings, counter: SessionCounter): Promise<"written"> {
  if (io.upgrade === undefined) throw GatewayError.invalidRequest("this route takes WebSocket upgrades only", undefined, "upgrade_required");
  const refusal = handshakeRefusal(io.req);
  if (refusal) throw refusal;
  const client = await acceptClient(x, io, { protocol: undefined, deflate: false, maxPayload: settings.maxMessageBytes });
  client.on("error", () => undefined); // the relay takes over its errors; until then a failing client just closes
  let relay: SessionRelay | undefined;
  const meter = new SessionMeter(x, hooks, () => relay, renderError);
  try {
    const setup = await firstMessage(client, settings.setupTimeoutMs);
    const model = modelOf(setup);
    if (setup === undefined || model === undefined) return refuse(x, client, GatewayError.invalidRequest("the first message must be a setup naming a model: {\"setup\":{\"model\":\"models/...\"}}", "setup.model", "missing_model"));
    let attempts;
    try {
      const resolved = await resolveModel(x, io, hooks, model);
      if (!Array.isArray(resolved)) return refuse(x, client, asError(resolved));
      attempts = socketAttempts(resolved, io.pipeline.id);
    } catch (err) {
      return refuse(x, client, err instanceof GatewayError ? err : GatewayError.internal(PLUGIN, err));
    }
    let upstream: WebSocket;
    try {
      upstream = await connectUpstream(x, io, {
        attempts, headers: {}, protocols: [], deflate: false, maxMessageBytes: settings.maxMessageBytes, source: PLUGIN,
        pathFor: () => io.req.url!.split("?", 1)[0]!,
      });
    } catch (err) {
      return refuse(x, client, err instanceof GatewayError ? err : GatewayError.internal(PLUGIN, err), 1011);
    }
    const forwarded = JSON.stringify({ ...setup, setup: { ...setup.setup, model: resourceOf(x.upstreamModel ?? model) } });
    upstream.send(forwarded);
    await relayUntilClosed(x, io, client, upstream, {
      idleTimeoutMs: settings.idleTimeoutMs, counter, source: PLUGIN,
      watch: (r) => {
        relay = r;
        return { fromUpstream: (data) => readServerMessage(meter, data) };
      },
    });
    // The setup went up before the relay counted: it is the session's too.
    if (x.session) x.session = { ...x.session, framesUp: (x.session.framesUp as number) + 1, bytesUp: (x.session.bytesUp as number) + Buffer.byteLength(forwarded) };
  } finally {
    await finishSession(x, meter);
  }
  return "written";
}

type Setup = { setup: Record<string, unknown> } & Record<string, unknown>;

/** The client's first message, with the client paused after it (what follows waits for the upstream). */
function firstMessage(client: WebSocket, timeoutMs: number): Promise<Setup | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), timeoutMs);
    const done = (setup: Setup | undefined) => {
      clearTimeout(timer);
      client.off("message", onMessage);
      client.off("close", onClose);
      resolve(setup);
    };
    const onMessage = (data: Buffer) => {
      client.pause();
      try {
        const parsed: unknown = JSON.parse(data.toString("utf8"));
        const setup = (parsed as { setup?: unknown } | null)?.setup;
        done(typeof setup === "object" && setup !== null ? (parsed as Setup) : undefined);
      } catch {
        done(undefined);
      }
    };
    const onClose = () => done(undefined);
    client.on("message", onMessage);
    client.once("close", onClose);
  });
}

/** `models/gemini-live-x` -> `gemini-live-x`: the pipeline's models are named without the prefix. */
function modelOf(setup: Setup | undefined): string | undefined {
  const model = setup?.setup.model;
  if (typeof model !== "string" || model === "") return undefined;
  return model.startsWith("models/") ? model.slice("models/".length) : model;
}

function resourceOf(model: string): string {
  return model.includes("/") ? model : `models/${model}`;
}

function asError(answer: Answer): GatewayError {
  return answer instanceof GatewayError ? answer : new GatewayError({ status: answer.status, type: "invalid_request", code: "refused", message: `refused with ${answer.status}` });
}

/** After the upgrade a refusal is an error message and a close; the session's record says why. */
async function refuse(x: Exchange, client: WebSocket, err: GatewayError, code = 1008): Promise<"written"> {
  x.error = err;
  x.status = err.status;
  const started = performance.now();
  const closed = new Promise<number>((resolve) => {
    if (client.readyState === client.CLOSED) resolve(1006);
    else client.once("close", (c: number) => resolve(c));
  });
  client.resume(); // paused after its setup: it must read the client's answer to the close frame
  if (client.readyState === client.OPEN) {
    client.send(renderError(err));
    client.close(code, err.code);
  }
  const clientCloseCode = await closed;
  x.session = { durationMs: Math.round(performance.now() - started), framesUp: 0, bytesUp: 0, framesDown: 0, bytesDown: 0, clientCloseCode, endedBy: "gateway", reason: err.code };
  return "written";
}

/** Usage arrives on server messages as usageMetadata (Live names output `responseTokenCount`); Live sends its JSON in binary frames too. */
function readServerMessage(meter: SessionMeter, data: Buffer): void {
  const text = data.toString("utf8");
  const hasUsage = text.includes('"usageMetadata"');
  if (!hasUsage) {
    if (text.includes('"serverContent"')) meter.started();
    return;
  }
  let message: { usageMetadata?: Record<string, unknown> };
  try {
    message = JSON.parse(text);
  } catch {
    return;
  }
  const usage = usageOf(message.usageMetadata);
  if (usage) meter.finished(usage);
}

function usageOf(meta: Record<string, unknown> | undefined): IrUsage | undefined {
  if (meta === undefined) return undefined;
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const thoughts = n(meta.thoughtsTokenCount);
  const cached = n(meta.cachedContentTokenCount);
  return {
    inputTokens: n(meta.promptTokenCount) + n(meta.toolUsePromptTokenCount),
    outputTokens: n(meta.responseTokenCount ?? meta.candidatesTokenCount) + thoughts,
    ...(cached ? { cachedReadTokens: cached } : {}),
    ...(thoughts ? { reasoningTokens: thoughts } : {}),
  };
}

/** An error as Gemini renders one, sent as a message before the close frame. */
function renderError(err: GatewayError): string {
  return JSON.stringify({ error: { code: err.status, message: err.message, status: err.type === "budget_exceeded" || err.status === 429 ? "RESOURCE_EXHAUSTED" : err.status === 401 ? "UNAUTHENTICATED" : "FAILED_PRECONDITION" } });
}
