/**
 * The phase hooks a compiled pipeline exposes: the whole extension contract of a step plugin.
 * A hook's type says how its taps run and what they may return. Taps run in the order the steps
 * stand in the pipeline file; there are no priorities. Phases: auth -> validate -> endpoint ->
 * settle -> record, where the core's own endpoint (`generate`) runs plan -> [attempt loop:
 * translate -> attemptStarted -> provider.send -> attemptFinished] -> usage.
 */
import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, HookMap, SyncBailHook, SyncHook, SyncWaterfallHook } from "tapable";
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { EndpointIo, EndpointResult } from "./endpoint.js";
import type { GatewayError } from "./errors.js";
import type { SseEvent, SseTextSink } from "./format.js";
import type { Answer, Attempt, AttemptOutcome, Exchange } from "./exchange.js";
import type { IrUsage } from "./ir.js";
import type { RequestRecord } from "./record.js";

/** A cross-format translation for one attempt, made by the translate step. */
export interface Translation {
  /** The request body in the backend's format. */
  readonly body: Record<string, unknown>;
  /** Backend response body -> client response body, with the usage it reported. */
  response(upstreamBody: unknown): { body: unknown; usage: IrUsage | undefined };
  /** Backend SSE events -> client SSE text, written through `write`. */
  stream(write: SseTextSink): TranslatedStream;
}

export interface TranslatedStream {
  push(event: SseEvent): void;
  /** The upstream finished cleanly. */
  end(): void;
  /** The upstream failed mid-stream: write the client format's error event and stop. */
  error(err: GatewayError): void;
  readonly usage: IrUsage | undefined;
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
  /** Upstream finished cleanly: write the format's closing events (translated streams only). */
  end(): void;
  /** Upstream failed mid-stream: write the client format's error event. */
  error(err: GatewayError): void;
}

export type RelayResult = { ok: true } | { ok: false; error: GatewayError; clientGone: boolean };

/** Writes toward the client with backpressure; what a RelayTarget's encoder writes through. */
export type RelayWrite = (data: string | Buffer) => void;

export class PipelineHooks {
  /** Identify the caller. Return an Answer (401…) to stop the request. */
  readonly auth = new AsyncSeriesBailHook<[Exchange], Answer | undefined>(["exchange"]);
  /** Check or rewrite the request (schema, limits, guards, rate limits). Return an Answer (400, 429…) to stop it. */
  readonly validate = new AsyncSeriesBailHook<[Exchange], Answer | undefined>(["exchange"]);
  /** Order and filter the attempts the core will try, first to last. Starts with every backend serving the model, in file order. */
  readonly plan = new AsyncSeriesWaterfallHook<[Attempt[], Exchange]>(["attempts", "exchange"]);
  /** Translate for an attempt whose backend speaks `backendFormat` (not the client's). Return undefined to leave it to a later tap. */
  readonly translate = new SyncBailHook<[Exchange, Attempt, string], Translation | undefined>(["exchange", "attempt", "backendFormat"]);
  /** Decide how streams are relayed. */
  readonly streamPolicy = new SyncWaterfallHook<[StreamPolicy, Exchange]>(["policy", "exchange"]);
  /** An attempt is about to be sent (in-flight counting). Must be cheap. */
  readonly attemptStarted = new SyncHook<[Exchange, Attempt]>(["exchange", "attempt"]);
  /**
   * An attempt is over: failed, or its response body fully relayed (for streams, at stream end).
   * Health, latency and credential cooldown tap here. Must be cheap.
   */
  readonly attemptFinished = new SyncHook<[Exchange, AttemptOutcome]>(["exchange", "outcome"]);
  /** Usage is known (`exchange.usage`): before the response is written for plain replies, at the end for streams. */
  readonly usage = new SyncHook<[Exchange]>(["exchange"]);
  /** The response finished (or failed): release and settle reservations. Runs for every request that passed auth. */
  readonly settle = new AsyncSeriesHook<[Exchange]>(["exchange"]);
  /** Store the record. Runs after the response, off the hot path; a failing sink never fails a request. */
  readonly record = new AsyncParallelHook<[RequestRecord, Exchange]>(["record", "exchange"]);
  /**
   * Answer a route of kind `key` (its `endpoint`): the step that declared the kind taps
   * `endpoint.for(kind)`. The first tap that returns a result answers; a tap whose step's `when`
   * does not match is passed over. Nobody answering is a 404.
   */
  readonly endpoint = new HookMap<AsyncSeriesBailHook<[Exchange, EndpointIo], EndpointResult>>(() => new AsyncSeriesBailHook(["exchange", "io"]));
  /**
   * Questions one step asks the others, by name (`usage`: the record sinks' sums, asked by
   * usage-api). The first tap that returns an answer wins, in file order; undefined means none
   * could. A name's question and answer types belong to the library that names it (lib/usage).
   */
  readonly query = new HookMap<AsyncSeriesBailHook<[unknown, Exchange], unknown>>(() => new AsyncSeriesBailHook(["question", "exchange"]));
}

/** Names of the hooks a step may tap. */
export type HookName = keyof PipelineHooks;
