/**
 * The phase hooks a compiled pipeline exposes: the whole extension contract of a step plugin.
 * A hook's type says how its taps run and what they may return. Taps run in the order the steps
 * stand in the pipeline file; there are no priorities.
 *
 * Request phases, in order:
 *   auth -> validate -> endpoint -> settle -> record
 * where the endpoint of model routes (`generate`) is the core's own:
 *   plan -> [attempt loop: translate -> attemptStarted -> provider.send -> attemptFinished]
 *   -> (response written; `usage` as soon as usage is known)
 * and any other kind is answered by the step that taps `endpoint.for(kind)`. Admin endpoints
 * skip validate and write a log line instead of a record.
 */
import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, HookMap, SyncBailHook, SyncHook, SyncWaterfallHook } from "tapable";
import type { EndpointIo, EndpointResult } from "./endpoint.js";
import type { SseEvent, SseTextSink } from "./format.js";
import type { Attempt, AttemptOutcome, Exchange, Answer } from "./exchange.js";
import type { IrUsage } from "./ir.js";
import type { RequestRecord } from "./record.js";
import type { UsageQuery, UsageReport } from "./usage.js";

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
  error(err: import("./errors.js").GatewayError): void;
  readonly usage: IrUsage | undefined;
}

/** How streams are relayed; set by the stream step. Without one, streaming requests get a 400. */
export interface StreamPolicy {
  enabled: boolean;
  /** Longest silence allowed from the upstream between two events. */
  idleTimeoutMs: number;
  /** Interval of SSE comment lines sent to the client while the upstream is quiet; 0 = never. */
  keepAliveMs: number;
}

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
   * Sum stored records for the usage API (the usage-api endpoint, after auth). Record sinks
   * answer from what they stored; the first sink that returns a report wins, in file order.
   * Nobody answering is a 501.
   */
  readonly queryUsage = new AsyncSeriesBailHook<[UsageQuery, Exchange], UsageReport | undefined>(["query", "exchange"]);
}

/** Names of the hooks a step may tap. */
export type HookName = keyof PipelineHooks;
