/**
 * What the core hands a step that serves a kind of route (`hooks.endpoint.for(kind)`): the raw
 * request and response, a view of its pipeline, and the core's attempt loop and model-request
 * preparation, so that no endpoint grows a second copy of either.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { GatewayError } from "./errors.js";
import type { Attempt, AttemptOutcome, Backend, Exchange, Predicate, RouteInfo } from "./exchange.js";
import type { Attempts, Limits, Timeouts } from "./generated/pipeline.js";
import type { Translation } from "./translation.js";
import type { Logger } from "./log.js";

/** The endpoint kind the core serves itself: a model request and its reply. */
export const GENERATE_ENDPOINT = "generate";

/** Model -> backends, built once at load. */
export interface ModelIndex {
  /**
   * The attempts for `model` (or an alias's targets, in order), every serving backend in file
   * order; a fresh array the caller may reorder.
   */
  attemptsFor(model: string): Attempt[];
  /** Every concrete model name the backends list (globs excluded), for model listings. */
  listed(): { model: string; backend: string }[];
}

/** A compiled pipeline as an endpoint sees it (its hooks are the ones the step's `apply` got). */
export interface PipelineView {
  readonly id: string;
  readonly routes: readonly RouteInfo[];
  /** The steps in file order, with the hooks each one tapped (each tap carries its step's id as `tap.step`). */
  readonly steps: readonly { readonly id: string; readonly use: string; readonly when?: Predicate; readonly hooks: readonly string[] }[];
  readonly backends: ReadonlyMap<string, Backend>;
  readonly models: ModelIndex;
  readonly limits: Required<Limits>;
  readonly attempts: Required<Attempts>;
  readonly timeouts: Required<Timeouts>;
  readonly log: Logger;
}

/**
 * One kind of request as the attempt loop drives it. `prepare` readies an attempt before it
 * counts (what it throws ends the loop without an outcome) and returns the send, which fills
 * `outcome` as it learns and resolves once the reply is fully relayed.
 */
export interface AttemptDriver {
  prepare(attempt: Attempt): AttemptSend;
  /** A veto on moving on after `failure`, beyond `attempts.on` (the request body is gone, the method is not idempotent). */
  mayRetry?(failure: GatewayError): boolean;
  /** Most attempts; default the pipeline's `attempts.maxAttempts`. With no more than the plan holds, no backend is tried twice. */
  readonly maxAttempts?: number;
  /** False for attempts that are no sample of how a backend generates (a token count): the attempt hooks do not see them. */
  readonly sampled?: boolean;
}

export type AttemptSend = (outcome: AttemptOutcome, turn: AttemptTurn) => Promise<void>;

export interface AttemptTurn {
  /** `performance.now()` when the attempt was sent. */
  readonly sentAt: number;
  /**
   * Would the loop move on after `failure`? A send that got a reply it could still pass on (a
   * proxied 503) asks before deciding: when no attempt would follow, the reply goes to the client.
   */
  movesOn(failure: GatewayError): boolean;
}

/** An attempt's request as its backend takes it: the client's own body (model renamed) when the backend speaks its format, else the translate step's. */
export interface PreparedRequest {
  backendFormat: string;
  body: Record<string, unknown>;
  /** The client's bytes, when `body` goes out unchanged and no step replaced it. */
  rawBody: Buffer | undefined;
  /** Set when the body was translated: it turns the reply back into the client's format. */
  translation: Translation | undefined;
}

export interface EndpointIo {
  /** The client's request; its body is unread unless the endpoint declared `body: "json"`. */
  readonly req: IncomingMessage;
  /** Written by the endpoint only when it answers "written" (streams, proxied replies). */
  readonly res: ServerResponse;
  /** A WebSocket upgrade: `res` writes refusals on `socket` until the endpoint detaches it; `closing` aborts at a drain's deadline (go away with 1001). */
  readonly upgrade?: { readonly socket: import("node:stream").Duplex; readonly head: Buffer; readonly closing: AbortSignal };
  /** Aborts when the gateway starts draining: an endpoint ends its long-lived streams (and refuses new ones) rather than hold the drain to its deadline. */
  readonly draining: AbortSignal;
  readonly pipeline: PipelineView;
  /** The core's attempt loop: backoff, retry-after, fallback rules and the total budget included. */
  walkAttempts(attempts: readonly Attempt[], driver: AttemptDriver): Promise<void>;
  /** A model request prepared for `attempt` exactly as the model loop would send it (passed through or translated); of `exchange` when given (a dry run's). */
  prepareRequest(attempt: Attempt, exchange?: Exchange): PreparedRequest;
  /** Sets the exchange's headers (the steps' and x-switchyard-*) on `res`, before the endpoint writes its own status. */
  applyExchangeHeaders(): void;
}

/**
 * An endpoint's outcome: an Answer the core writes, or "written" when the endpoint wrote the
 * response itself. Undefined leaves the request to a later step (its `when` did not match).
 */
export type EndpointResult = import("./exchange.js").Answer | "written" | undefined;
