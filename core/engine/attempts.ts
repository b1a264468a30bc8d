/**
 * The attempt loop, owned by the core: walk the planned attempts, translate and send each, and
 * move on to the next only while nothing has reached the client and the failure is one the
 * pipeline's `attempts.on` names. Streams commit on their first upstream chunk: a stream that
 * fails before it still falls back.
 */
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { CompiledPipeline } from "./compile.js";
import { GatewayError, asGatewayError } from "../contract/errors.js";
import type { AttemptDriver, PreparedRequest } from "../contract/endpoint.js";
import type { Attempt, AttemptOutcome, Exchange } from "../contract/exchange.js";
import type { StreamPolicy, Translation } from "../contract/translation.js";
import { deliverPlain, deliverStream } from "./deliver.js";

type FallbackRule = string | number;

/** Does `err` match one of the pipeline's fallback rules (`connect`, `timeout`, 429, `5xx`…)? */
function fallbackAllowed(err: GatewayError, on: readonly FallbackRule[]): boolean {
  if (err.failure === undefined) return false;
  if (err.failure === "connect") return on.includes("connect");
  if (err.failure === "timeout") return on.includes("timeout");
  // A stream that died before its first byte behaves like a failed connection or a 5xx.
  if (err.failure === "stream") return on.includes("connect") || on.includes("5xx");
  const status = err.upstreamStatus ?? err.status;
  return on.includes(status) || on.includes(`${Math.floor(status / 100)}xx`);
}

function noTranslation(x: Exchange, backendFormat: string): GatewayError {
  const message = `pipeline ${x.pipelineId} cannot translate ${x.route.format} requests for a ${backendFormat} backend: add a translate step`;
  return new GatewayError({ status: 400, type: "invalid_request", code: "translation_unavailable", message });
}

/** The backend's format: the client's own when the backend speaks it (bytes pass through), else its first. */
function backendFormatFor(x: Exchange, attempt: Attempt): string {
  const formats = attempt.backend.provider.formats;
  return formats.includes(x.route.format) ? x.route.format : formats[0]!;
}

/**
 * How long to wait before attempt `i`: nothing when moving on to a backend not yet tried;
 * otherwise exponential backoff with full jitter, or the retry-after `asked` (by the last failure,
 * or by the backend about to be retried on its own last try) when longer. Undefined when the wait
 * is not worth it (retry-after beyond the cap, or past the deadline).
 */
function waitBefore(p: CompiledPipeline, i: number, planned: number, asked: number, deadline: number): number | undefined {
  if (i < planned) return 0;
  const backoff = Math.random() * Math.min(p.attempts.maxBackoffMs, p.attempts.backoffMs * 2 ** (Math.floor(i / planned) - 1));
  if (asked > p.attempts.maxRetryAfterMs) return undefined;
  const wait = Math.max(backoff, asked);
  return performance.now() + wait < deadline ? wait : undefined;
}

/** Why the exchange's signal fired: the client left, or the total budget ran out. */
function abortReason(x: Exchange, totalMs: number): GatewayError {
  const reason: unknown = x.end.reason;
  return reason instanceof GatewayError ? reason : GatewayError.totalTimeout(totalMs);
}

/**
 * Walks the planned attempts: a backend not yet tried is sent at once, a retry of one already
 * tried after a backoff. Moves on only while nothing reached the client, the failure is one
 * `attempts.on` names, the driver does not veto it, and the total budget allows.
 */
export async function walkAttempts(p: CompiledPipeline, x: Exchange, attempts: readonly Attempt[], driver: AttemptDriver): Promise<void> {
  const end = x.end;
  const limit = driver.maxAttempts ?? p.attempts.maxAttempts;
  const sampled = driver.sampled !== false;
  const deadline = x.startedHr + p.timeouts.totalMs;
  let wait = 0;
  for (let i = 0; i < limit; i++) {
    // An abort ends the wait early; the check below then ends the loop.
    if (wait > 0) await sleep(wait, undefined, { signal: x.signal }).catch(() => undefined);
    if (i > 0 && end.aborted) break;
    const attempt = attempts[i % attempts.length]!;
    const send = driver.prepare(attempt);
    if (sampled) p.hooks.attemptStarted.call(x, attempt);
    // On the exchange from the start, so the reply's x-switchyard-attempts counts this attempt.
    const outcome: AttemptOutcome = { backend: attempt.backend.id, model: attempt.model, latencyMs: 0 };
    x.attempts.push(outcome);
    const sentAt = performance.now();
    /** The wait before the next attempt after `failure`, or undefined when none follows. */
    const nextWait = (failure: GatewayError): number | undefined => {
      if (i === limit - 1 || (x.headersSent && !x.continuing) || end.aborted || !fallbackAllowed(failure, p.attempts.on)) return undefined;
      if (driver.mayRetry && !driver.mayRetry(failure)) return undefined;
      // The next attempt's backend last tried attempts.length attempts ago, and may have asked for a wait then.
      const askedBefore = x.attempts[x.attempts.length - attempts.length]?.retryAfterMs ?? 0;
      return waitBefore(p, i + 1, attempts.length, Math.max(failure.retryAfterMs ?? 0, askedBefore), deadline);
    };
    // The backoff has jitter: a decision the send asked for is the one the loop keeps.
    let decided: { failure: GatewayError; wait: number | undefined } | undefined;
    const movesOn = (failure: GatewayError): boolean => {
      decided = { failure, wait: nextWait(failure) };
      return decided.wait !== undefined;
    };
    try {
      await send(outcome, { sentAt, movesOn });
      finishAttempt(p, x, outcome, sentAt, sampled);
      return;
    } catch (err) {
      const aborted = end.aborted ? abortReason(x, p.timeouts.totalMs) : undefined;
      if (aborted?.code === "client_closed_request") {
        outcome.errorCode = aborted.code;
        finishAttempt(p, x, outcome, sentAt, sampled);
        throw aborted;
      }
      const failure = aborted ?? asGatewayError(err, "provider");
      outcome.failure = failure.failure;
      outcome.errorCode = failure.code;
      outcome.status ??= failure.upstreamStatus;
      if (failure.retryAfterMs !== undefined) outcome.retryAfterMs = failure.retryAfterMs;
      finishAttempt(p, x, outcome, sentAt, sampled);
      const next = decided?.failure === failure ? decided.wait : nextWait(failure);
      if (next === undefined) throw failure;
      p.log.debug({ request: x.id, backend: attempt.backend.id, code: failure.code }, "attempt failed; trying the next");
      wait = next;
    }
  }
  // Only reached when the client left or the total budget ran out during a backoff wait.
  throw abortReason(x, p.timeouts.totalMs);
}

export function prepareRequest(p: CompiledPipeline, x: Exchange, attempt: Attempt): PreparedRequest {
  const backendFormat = backendFormatFor(x, attempt);
  // A same-format stream is asked too: a translate step that continues broken streams relays them through the IR.
  const translation = backendFormat !== x.route.format || x.stream ? p.hooks.translate.call(x, attempt, backendFormat) : undefined;
  if (translation) return { backendFormat, body: translation.body, rawBody: undefined, translation };
  if (backendFormat !== x.route.format) throw noTranslation(x, backendFormat);
  const adjusted = x.format.preparePassthrough(x.body, attempt.model, x.stream);
  if (adjusted !== undefined) return { backendFormat, body: adjusted, rawBody: undefined, translation: undefined };
  const rawBody = x.received?.body === x.body ? x.received.bytes : undefined;
  return { backendFormat, body: x.body, rawBody, translation: undefined };
}

/** The model-request attempt loop: translate (or pass through), send, relay the reply. */
export function runAttempts(p: CompiledPipeline, x: Exchange, attempts: Attempt[], res: ServerResponse, policy: StreamPolicy | undefined): Promise<void> {
  return walkAttempts(p, x, attempts, {
    prepare(attempt) {
      const { backendFormat, body, rawBody, translation } = prepareRequest(p, x, attempt);
      return async (outcome, { sentAt, movesOn }) => {
        const reply = await attempt.backend.provider.send({
          format: backendFormat, model: attempt.model, body, rawBody, stream: x.stream, end: x.end, requestId: x.id, headers: x.upstreamHeaders,
          headersTimeoutMs: p.timeouts.firstByteMs, bodyTimeoutMs: policy?.idleTimeoutMs ?? p.timeouts.idleMs,
        });
        outcome.status = reply.status;
        outcome.ttfbMs = performance.now() - sentAt;
        x.backend = attempt.backend.id;
        x.upstreamModel = attempt.model;
        return x.stream ? deliverStream(p, x, res, reply, translation, policy!.relay!, outcome, movesOn) : deliverPlain(p, x, res, reply, translation);
      };
    },
  });
}

function finishAttempt(p: CompiledPipeline, x: Exchange, outcome: AttemptOutcome, sentAt: number, sampled: boolean): void {
  outcome.latencyMs = performance.now() - sentAt;
  if (sampled) p.hooks.attemptFinished.call(x, outcome);
}
