/** What the translate and stream steps hand the core: an attempt's translation, and the stream relay. */
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { GatewayError } from "./errors.js";
import type { AttemptOutcome } from "./exchange.js";
import type { SseEvent, SseTextSink } from "./format.js";
import type { IrUsage } from "./ir.js";

/** A cross-format translation for one attempt, made by the translate step. */
export interface Translation {
  /** The request body in the backend's format. */
  readonly body: Record<string, unknown>;
  /** Backend response body -> client response body, with the usage and (backend's own) finish reason it reported. */
  response(upstreamBody: unknown): { body: unknown; usage: IrUsage | undefined; finishReason?: string };
  /** Backend SSE events -> client SSE text, written through `write`; `outcome` is the attempt relayed. */
  stream(write: SseTextSink, outcome: AttemptOutcome): TranslatedStream;
}

export interface TranslatedStream {
  push(event: SseEvent): void;
  /** The upstream finished cleanly. */
  end(): void;
  /** The upstream failed mid-stream: write the client format's error event and stop. */
  error(err: GatewayError): void;
  /** The upstream broke after the client got text: true keeps the client's stream open for a continuation on the next attempt (no error written yet). */
  suspend?(err: GatewayError): boolean;
  readonly usage: IrUsage | undefined;
  /** The backend's own finish reason (its decoder's), once its stream reported one. */
  readonly finishReason?: string;
}

/**
 * How streams are relayed; set by the stream step (stream-sse). Without a relay, streaming
 * requests get a 400. The core owns everything up to the first upstream chunk (the attempt loop
 * may still fall back); from there the relay carries the stream to the client.
 */
export interface StreamPolicy {
  /** Longest silence allowed from the upstream between two chunks. */
  idleTimeoutMs: number;
  relay: StreamRelay | undefined;
}

/**
 * Relays an upstream stream to the client through the target the core makes for it (the client's
 * own format passed through, or a translation). It waits for the first chunk: a stream that ends
 * or fails before it rejects, nothing written, so the attempt loop may fall back. With the first
 * chunk it calls `commit` (the core writes the status line), then resolves once the stream ended,
 * failed (after the target's error event) or the client left.
 */
export type StreamRelay = (body: Readable, res: ServerResponse, commit: () => void, makeTarget: (write: RelayWrite) => RelayTarget) => Promise<RelayResult>;

export interface RelayTarget {
  /**
   * What reaches the client: `raw`, the upstream's bytes as they come (`push` only observes);
   * `kept`, the upstream's own text minus the events `push` returns false for; `written`, only
   * what the target writes (translated streams).
   */
  readonly output: "raw" | "kept" | "written";
  push(event: SseEvent): unknown;
  /** `raw` and `kept`: StreamObserver.eventsWanted (the events `push` may drop or read are among them). */
  eventsWanted?(chunk: Buffer): readonly number[];
  /** Upstream finished cleanly: write the format's closing events (translated streams only). */
  end(): void;
  /** Upstream failed mid-stream: write the client format's error event. */
  error(err: GatewayError): void;
  /** Before `error`: true when the stream is kept open for the next attempt to continue; then the relay writes nothing more and leaves `res` open. */
  suspend?(err: GatewayError): boolean;
}

export type RelayResult = { ok: true } | { ok: false; error: GatewayError; clientGone: boolean; suspended?: boolean };

/** Writes toward the client with backpressure; what a RelayTarget's encoder writes through. */
export type RelayWrite = (data: string | Buffer) => void;

