/**
 * The phase hooks a compiled pipeline exposes: the whole extension contract of a step plugin.
 * A hook's type says how its taps run and what they may return. Taps run in the order the steps
 * stand in the pipeline file; there are no priorities. Phases: auth -> validate -> endpoint ->
 * settle -> record, where the core's own endpoint (`generate`) runs plan -> [attempt loop:
 * translate -> attemptStarted -> provider.send -> attemptFinished] -> usage.
 */
import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, HookMap, SyncBailHook, SyncHook, SyncWaterfallHook } from "tapable";
import type { EndpointIo, EndpointResult } from "./endpoint.js";
import type { Answer, Attempt, AttemptOutcome, Exchange } from "./exchange.js";
import type { RequestRecord } from "./record.js";
import type { StreamPolicy, Translation } from "./translation.js";

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
