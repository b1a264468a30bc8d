/**
 * One WebSocket session on an endpoint, from the upgrade request to the record: the handshake
 * checked, a backend chosen by the pipeline's plan and opened inside the core's attempt loop (the
 * handshake is the attempt: fallback and health see it as they see an HTTP call, while a session
 * that runs for an hour does not count as an hour-long attempt), the client accepted with what the
 * upstream negotiated, then relayed until either side ends it. The totals go on the exchange for
 * its record.
 */
import type WebSocket from "ws";
import { GatewayError, type Attempt, type EndpointIo, type Exchange } from "../../core/index.js";
import { socketOpenerOf } from "../upstream/socket-target.js";
import { acceptClient } from "./accept.js";
import { openUpstreamSocket } from "./connect.js";
import { handshakeRefusal, offeredProtocols, offersDeflate } from "./handshake.js";
import { SessionRelay, type RelayHooks, type SessionTotals } from "./relay.js";
import type { SessionCounter } from "./sessions.js";

export interface SocketSessionSpec {
  /** The planned attempts, first to last. */
  attempts: readonly Attempt[];
  /** The upstream path and query below the backend's base URL, for an attempt. */
  pathFor(attempt: Attempt): string;
  /** Handshake headers for the upstream (the provider adds its own key). */
  headers: Record<string, string | string[]>;
  /** Largest message either side may send; a larger one closes the session with 1009. */
  maxMessageBytes: number;
  idleTimeoutMs: number;
  counter: SessionCounter;
  /** The step serving the endpoint, the source of its errors. */
  source: string;
  /** What to do with the relayed messages (realtime reads usage from them). */
  watch?(relay: SessionRelay): RelayHooks;
}

export async function runSocketSession(x: Exchange, io: EndpointIo, spec: SocketSessionSpec): Promise<SessionTotals> {
  const upgrade = io.upgrade;
  if (upgrade === undefined) throw GatewayError.invalidRequest("this route takes WebSocket upgrades only", undefined, "upgrade_required");
  const refusal = handshakeRefusal(io.req);
  if (refusal) throw refusal;
  if (spec.attempts.length === 0) {
    throw new GatewayError({ status: 503, type: "unavailable", code: "no_backend_available", message: `no backend of pipeline ${io.pipeline.id} is available` });
  }
  const protocols = offeredProtocols(io.req);
  const deflate = offersDeflate(io.req);
  let upstream: WebSocket | undefined;
  await io.walkAttempts(spec.attempts, {
    prepare: (attempt) => {
      const open = socketOpenerOf(attempt.backend.provider);
      if (open === undefined) {
        throw new GatewayError({ status: 500, type: "internal", code: "invalid_config", source: spec.source, message: `backend ${attempt.backend.id} (${attempt.backend.use}) cannot take WebSockets` });
      }
      return async (outcome, turn) => {
        const call = { path: spec.pathFor(attempt), headers: spec.headers, requestId: x.id, model: attempt.model };
        upstream = await open(call, (target) => openUpstreamSocket(target, {
          protocols, deflate, maxPayload: spec.maxMessageBytes, timeoutMs: io.pipeline.timeouts.firstByteMs, signal: x.signal, source: attempt.backend.use,
        }));
        outcome.status = 101;
        outcome.ttfbMs = performance.now() - turn.sentAt;
        x.backend = attempt.backend.id;
        if (attempt.model !== "") x.upstreamModel = attempt.model;
      };
    },
  });
  if (upstream === undefined) throw GatewayError.internal(spec.source, new Error("the attempt loop ended without a socket"));
  const opened = upstream;
  let client: WebSocket;
  try {
    client = await acceptClient(x, io, {
      protocol: opened.protocol === "" ? undefined : opened.protocol,
      deflate: deflate && opened.extensions.includes("permessage-deflate"),
      maxPayload: spec.maxMessageBytes,
    });
  } catch (err) {
    opened.close(1001, "client went away");
    throw err;
  }
  spec.counter.opened();
  const relay = new SessionRelay(client, opened, {
    idleTimeoutMs: spec.idleTimeoutMs,
    closing: upgrade.closing,
    watch: (r) => {
      const hooks = spec.watch?.(r) ?? {};
      const count = spec.counter.count;
      return { ...hooks, counted: hooks.counted ? (d, n) => (count(d, n), hooks.counted!(d, n)) : count };
    },
  });
  const totals = await relay.done;
  spec.counter.closed();
  x.session = { ...totals };
  if (totals.endedBy === "upstream-dropped") {
    x.error = new GatewayError({ status: 502, type: "upstream_error", code: "upstream_socket_dropped", message: totals.reason ?? "the backend's connection dropped", failure: "stream", source: spec.source });
  }
  return totals;
}
