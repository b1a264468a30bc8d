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

export interface UpstreamSpec {
  /** The planned attempts, first to last. */
  attempts: readonly Attempt[];
  /** The upstream path and query below the backend's base URL, for an attempt. */
  pathFor(attempt: Attempt): string;
  /** Handshake headers for the upstream (the provider adds its own key). */
  headers: Record<string, string | string[]>;
  /** Subprotocols offered upstream. */
  protocols: readonly string[];
  deflate: boolean;
  /** Largest message either side may send; a larger one closes the session with 1009. */
  maxMessageBytes: number;
  /** The step serving the endpoint, the source of its errors. */
  source: string;
}

export interface RelaySpec {
  idleTimeoutMs: number;
  counter: SessionCounter;
  source: string;
  /** What to do with the relayed messages (realtime reads usage from them). */
  watch?(relay: SessionRelay): RelayHooks;
}

export type SocketSessionSpec = Omit<UpstreamSpec, "protocols" | "deflate"> & RelaySpec & {
  /** The client's offered subprotocols as they go upstream (default: all of them). */
  protocols?(offered: string[]): string[];
};

/** The attempts whose backend can take a WebSocket, or the GatewayError to answer when none is left. */
export function socketAttempts(attempts: readonly Attempt[], pipeline: string): Attempt[] {
  const usable = attempts.filter((a) => socketOpenerOf(a.backend.provider) !== undefined);
  if (usable.length === 0) throw new GatewayError({ status: 503, type: "unavailable", code: "no_backend_available", message: `no backend of pipeline ${pipeline} that takes WebSockets is available` });
  return usable;
}

/** Opens the upstream socket inside the core's attempt loop; sets the exchange's backend and model. */
export async function connectUpstream(x: Exchange, io: EndpointIo, spec: UpstreamSpec): Promise<WebSocket> {
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
          protocols: spec.protocols, deflate: spec.deflate, maxPayload: spec.maxMessageBytes, timeoutMs: io.pipeline.timeouts.firstByteMs, signal: x.signal, source: attempt.backend.use,
        }));
        outcome.status = 101;
        outcome.ttfbMs = performance.now() - turn.sentAt;
        x.backend = attempt.backend.id;
        if (attempt.model !== "") x.upstreamModel = attempt.model;
      };
    },
  });
  if (upstream === undefined) throw GatewayError.internal(spec.source, new Error("the attempt loop ended without a socket"));
  return upstream;
}

/** Relays until both sides closed; the totals go on the exchange (`session`) for its record. */
export async function relayUntilClosed(x: Exchange, io: EndpointIo, client: WebSocket, upstream: WebSocket, spec: RelaySpec): Promise<SessionTotals> {
  spec.counter.opened();
  const relay = new SessionRelay(client, upstream, {
    idleTimeoutMs: spec.idleTimeoutMs,
    closing: io.upgrade!.closing,
    watch: (r) => {
      const hooks = spec.watch?.(r) ?? {};
      const count = spec.counter.count;
      const counted = hooks.counted;
      return { ...hooks, counted: counted ? (d, n) => (count(d, n), counted(d, n)) : count };
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

/** The whole session for endpoints that know their backend before accepting the client (proxying, OpenAI Realtime). */
export async function runSocketSession(x: Exchange, io: EndpointIo, spec: SocketSessionSpec): Promise<SessionTotals> {
  if (io.upgrade === undefined) throw GatewayError.invalidRequest("this route takes WebSocket upgrades only", undefined, "upgrade_required");
  const refusal = handshakeRefusal(io.req);
  if (refusal) throw refusal;
  const offered = offeredProtocols(io.req);
  const deflate = offersDeflate(io.req);
  const upstream = await connectUpstream(x, io, { ...spec, attempts: socketAttempts(spec.attempts, io.pipeline.id), protocols: spec.protocols?.(offered) ?? offered, deflate });
  let client: WebSocket;
  try {
    client = await acceptClient(x, io, {
      protocol: upstream.protocol === "" ? undefined : upstream.protocol,
      deflate: deflate && upstream.extensions.includes("permessage-deflate"),
      maxPayload: spec.maxMessageBytes,
    });
  } catch (err) {
    upstream.close(1001, "client went away");
    throw err;
  }
  return relayUntilClosed(x, io, client, upstream, spec);
}
