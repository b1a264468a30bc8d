/**
 * One request's state as it moves through a pipeline. Built per request by the core; plugins
 * read it and set the fields their phase owns (auth sets `tenant`, cost sets `costUsd`…).
 * Plugin-private per-request state belongs in the plugin's own WeakMap<Exchange, …>, not here.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { GatewayError, AttemptFailure } from "./errors.js";
import type { FormatTranslator, InboundRequestInfo } from "./format.js";
import type { IrRequest, IrUsage } from "./ir.js";
import type { Provider } from "./provider.js";
import type { RequestEnd } from "./request-end.js";

export interface RouteInfo {
  /** The method the route answers; `*` on a prefix route that names none (it takes every method). */
  method: string;
  path: string;
  /** The client's wire format on this route: it reads model requests and renders every error. */
  format: string;
  /**
   * What the route does: `generate` (a model request, the loop the core owns) or a kind a step of
   * the pipeline serves through `hooks.endpoint` (`models`, `count-tokens`, `usage`, `proxy`…).
   */
  endpoint: string;
  /**
   * The core reads the body as a JSON object before auth, so steps and conditions see it (model
   * requests). Otherwise the endpoint reads the body itself, or never (a proxy streams it).
   */
  jsonBody: boolean;
  /** The route takes its path and everything below it (an endpoint declared `match: "prefix"`). */
  prefix?: boolean;
  /** Operators only (callers whose auth set `role: "admin"`): from the endpoint's declaration, never from a file. */
  admin?: boolean;
  /** For operators (admin routes, and endpoints declared `operator`): served on the admin listener when there is one (`serve --admin-port`). */
  operator?: boolean;
}

/** A backend as compiled from the pipeline file. */
export interface Backend {
  readonly id: string;
  /** The provider plugin's name (`provider-openai`…). */
  readonly use: string;
  readonly provider: Provider;
  /** Model patterns this backend serves, as written (`*` globs). */
  readonly models: readonly string[];
  /** Client model name -> backend model name. */
  readonly modelMap: Readonly<Record<string, string>>;
}

/** One planned try: which backend, with which model name. Selectors order and filter these. */
export interface Attempt {
  readonly backend: Backend;
  /** The model name the backend is asked for. */
  readonly model: string;
}

/** What happened on one attempt, for records, health and latency tracking. */
export interface AttemptOutcome {
  backend: string;
  model: string;
  /** Upstream HTTP status, when one arrived. */
  status?: number;
  failure?: AttemptFailure;
  errorCode?: string;
  /** How long the upstream asked us to wait (`retry-after` / `retry-after-ms`), from the attempt's GatewayError. */
  retryAfterMs?: number;
  /** Milliseconds from sending to the upstream's response headers (absent when none arrived). */
  ttfbMs?: number;
  /** Milliseconds from sending to the end of the attempt (failure, or the body fully relayed). */
  latencyMs: number;
  /** This attempt's own usage, when a stream continued over attempts (set by its translation): each is priced at its own backend. */
  usage?: IrUsage;
}

/**
 * Why a plan step held backends back (an open circuit, a rate-limit cooldown) and when the first
 * of them is expected back. Used by the core only when the plan comes back empty.
 */
export interface HeldBack {
  /** Milliseconds until the soonest held-back backend may be tried again. */
  retryAfterMs: number;
  /** Every backend held back is cooling after a 429: the client gets a 429 rather than a 503. */
  rateLimited: boolean;
}

/**
 * A response the gateway writes itself, as JSON: an error, or a status and body. `auth` and
 * `validate` return one to stop a request early; an endpoint returns one to answer it.
 */
export type Answer = GatewayError | { status: number; body: unknown; headers?: Record<string, string> };

export interface Exchange {
  /** The gateway's own id, unique: the record's id and the `x-request-id` upstreams get. */
  readonly id: string;
  /** The client's `x-request-id` (when well-formed), for its own correlation; never trusted as unique. */
  readonly clientRequestId?: string;
  /** Epoch milliseconds at arrival. */
  readonly startedAt: number;
  /** `performance.now()` at arrival, for durations. */
  readonly startedHr: number;
  readonly pipelineId: string;
  readonly route: RouteInfo;
  /** The client's format translator. */
  readonly format: FormatTranslator;
  readonly headers: IncomingHttpHeaders;
  readonly inbound: InboundRequestInfo;
  /**
   * Aborted when the client goes away or the request's total time (`timeouts.totalMs`) runs out;
   * `signal.reason` is the GatewayError saying which. Made on first read: hot paths use `end`.
   */
  readonly signal: AbortSignal;
  /** The same end as `signal`, as an EventEmitter (`aborted`, `reason`, an `abort` event) that costs nothing until it fires. */
  readonly end: RequestEnd;

  /**
   * The parsed JSON body. A step that changes it replaces it with a new object, never edits it in
   * place: while `body` is still the object parsed from `received`, the core may send the
   * client's bytes upstream instead of serialising `body` again.
   */
  body: Record<string, unknown>;
  /** The client's request bytes and the object they parsed to (model routes). */
  received?: { readonly bytes: Buffer; readonly body: Record<string, unknown> };
  /** The model the client asked for. */
  model: string | undefined;
  stream: boolean;
  /**
   * Set by plan steps that leave backends out of the plan for a while. When the plan comes back
   * empty, the core answers 429 (every one rate-limited) or 503 with this as retry-after, instead
   * of a 503 that says nothing about when to come back. A step that sets it keeps the smaller wait.
   */
  heldBack?: HeldBack;
  /** Set by auth. */
  tenant?: string;
  keyId?: string;
  /** Set by auth: "admin" for operator credentials, which admin routes require (the core refuses anyone else). */
  role?: "client" | "admin";
  /** The request in IR, set by the translate step the first time a translation needs it. */
  ir?: IrRequest;
  /** Headers steps add to the upstream request of the attempt about to be sent (set in `attemptStarted`: a trace's `traceparent`). */
  upstreamHeaders?: Record<string, string>;

  /** Headers every reply carries, success or error (rate limit headers, cost…). */
  readonly responseHeaders: Record<string, string>;
  /** True once the status line went out: from then on no fallback and no header changes. */
  headersSent: boolean;
  /** A stream that broke after its first text, kept open for the next attempt to continue; `end` writes the error event and closes it. */
  continuing?: { end(err: GatewayError): void };
  readonly attempts: AttemptOutcome[];
  /** The backend and model that served the reply. */
  backend?: string;
  upstreamModel?: string;
  usage?: IrUsage;
  /** Why the answer ended, as the backend's format writes it (`FormatTranslator.finishReasonOf`): set with `usage`. */
  finishReason?: string;
  /** USD, or null when the price is unknown (never 0 by default). */
  costUsd?: number | null;
  /** Set by a response cache step: it answered (`hit`, costUsd 0, `savedCostUsd` what the upstream would have cost), missed, or was not asked. */
  cache?: { status: "hit" | "miss" | "bypass"; savedCostUsd?: number | null };
  /** Fields dropped by translation, unknown prices and the like: kept on the record. */
  readonly notes: string[];
  /** Final HTTP status sent to the client. */
  status?: number;
  error?: GatewayError;
  /** Milliseconds from arrival to the first response byte. */
  ttfbMs?: number;
  /** Set (empty) by a step that keeps what the client was answered (a record step capturing bodies): the reply's writers append to it. */
  reply?: (string | Buffer)[];
  /** The WebSocket session's totals, for the record (frames, bytes, close codes…). */
  session?: Readonly<Record<string, unknown>>;
}

/** A compiled `when` condition (or named matcher); when evaluating it fails it throws a 500 GatewayError (`condition_failed`): it fails closed. */
export type Predicate = ((exchange: Exchange) => boolean) & {
  /** The verdict with the matcher that decided it (`/steps/2/when/any/1/header: x-tier equals "free"`), for explain; throws as the predicate does. */
  readonly explain?: (exchange: Exchange) => { matches: boolean; decidedBy: string };
};
