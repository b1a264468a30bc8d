/**
 * The attempt loop, owned by the core: walk the planned attempts, translate and send each, and
 * move on to the next only while nothing has reached the client and the failure is one the
 * pipeline's `attempts.on` names. Streams commit on their first upstream chunk: a stream that
 * fails before it still falls back.
 */
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { CompiledPipeline } from "./compile.js";
import { GatewayError, asGatewayError } from "./errors.js";
import type { Attempt, AttemptOutcome, Exchange } from "./exchange.js";
import type { StreamPolicy, Translation } from "./hooks.js";
import type { IrRequest } from "./ir.js";
import type { UpstreamReply } from "./provider.js";
import { clientGone, relayStream, streamFailure, type RelayTarget, type RelayWrite } from "./relay.js";
import { applyExchangeHeaders, writeJson } from "./respond.js";
import { upstreamTimeoutError } from "./upstream-errors.js";

type FallbackRule = string | number;

/** Does `err` match one of the pipeline's fallback rules (`connect`, `timeout`, 429, `5xx`…)? */
export function fallbackAllowed(err: GatewayError, on: readonly FallbackRule[]): boolean {
  if (err.failure === undefined) return false;
  if (err.failure === "connect") return on.includes("connect");
  if (err.failure === "timeout") return on.includes("timeout");
  // A stream that died before its first byte behaves like a failed connection or a 5xx.
  if (err.failure === "stream") return on.includes("connect") || on.includes("5xx");
  const status = err.upstreamStatus ?? err.status;
  return on.includes(status) || on.includes(`${Math.floor(status / 100)}xx`);
}

function noTranslation(x: Exchange, backendFormat: string): GatewayError {
  return new GatewayError({
    status: 400, type: "invalid_request", code: "translation_unavailable",
    message: `pipeline ${x.pipelineId} cannot translate ${x.route.format} requests for a ${backendFormat} backend: add a translate step`,
  });
}

/** The backend's format: the client's own when the backend speaks it (bytes pass through), else its first. */
function backendFormatFor(x: Exchange, attempt: Attempt): string {
  const formats = attempt.backend.provider.formats;
  return formats.includes(x.route.format) ? x.route.format : formats[0]!;
}

/**
 * How long to wait before attempt `i`: nothing when moving on to a backend not yet tried;
 * otherwise exponential backoff with full jitter, or the upstream's retry-after when longer.
 * Undefined when the wait is not worth it (retry-after beyond the cap, or past the deadline).
 */
function waitBefore(p: CompiledPipeline, i: number, planned: number, last: GatewayError, deadline: number): number | undefined {
  if (i < planned) return 0;
  const retry = Math.floor(i / planned);
  const backoff = Math.random() * Math.min(p.attempts.maxBackoffMs, p.attempts.backoffMs * 2 ** (retry - 1));
  if (last.retryAfterMs !== undefined && last.retryAfterMs > p.attempts.maxRetryAfterMs) return undefined;
  const wait = Math.max(backoff, last.retryAfterMs ?? 0);
  return performance.now() + wait < deadline ? wait : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export async function runAttempts(p: CompiledPipeline, x: Exchange, attempts: Attempt[], res: ServerResponse, policy: StreamPolicy | undefined, signal: AbortSignal): Promise<void> {
  const limit = p.attempts.maxAttempts;
  const deadline = x.startedHr + p.timeouts.totalMs;
  let lastFailure: GatewayError | undefined;
  for (let i = 0; i < limit; i++) {
    if (lastFailure) {
      const wait = waitBefore(p, i, attempts.length, lastFailure, deadline);
      if (wait === undefined) throw lastFailure;
      if (wait > 0) await sleep(wait, signal);
      if (signal.aborted) break;
    }
    const attempt = attempts[i % attempts.length]!;
    const backendFormat = backendFormatFor(x, attempt);
    let translation: Translation | undefined;
    let body: Record<string, unknown>;
    if (backendFormat === x.route.format) {
      body = x.format.preparePassthrough(x.body, attempt.model, x.stream);
    } else {
      translation = p.hooks.translate.call(x, attempt, backendFormat);
      if (!translation) throw noTranslation(x, backendFormat);
      body = translation.body;
    }
    p.hooks.attemptStarted.call(x, attempt);
    // On the exchange from the start, so the reply's x-switchyard-attempts counts this attempt.
    const outcome: AttemptOutcome = { backend: attempt.backend.id, model: attempt.model, latencyMs: 0 };
    x.attempts.push(outcome);
    const sentAt = performance.now();
    try {
      const reply = await attempt.backend.provider.send({
        format: backendFormat, model: attempt.model, body, stream: x.stream, signal, requestId: x.id,
        headersTimeoutMs: p.timeouts.firstByteMs,
        bodyTimeoutMs: policy?.idleTimeoutMs ?? p.timeouts.idleMs,
      });
      outcome.status = reply.status;
      outcome.ttfbMs = performance.now() - sentAt;
      x.backend = attempt.backend.id;
      x.upstreamModel = attempt.model;
      if (x.stream) await streamReply(p, x, res, reply, translation, policy!, outcome);
      else await plainReply(p, x, res, reply, translation);
      finishAttempt(p, x, outcome, sentAt);
      return;
    } catch (err) {
      if (signal.aborted && x.signal.aborted) {
        outcome.errorCode = "client_closed_request";
        finishAttempt(p, x, outcome, sentAt);
        throw clientGone();
      }
      const failure = signal.aborted ? totalTimeout(p.timeouts.totalMs) : asGatewayError(err, "provider");
      outcome.failure = failure.failure;
      outcome.errorCode = failure.code;
      outcome.status ??= failure.upstreamStatus;
      if (failure.retryAfterMs !== undefined) outcome.retryAfterMs = failure.retryAfterMs;
      finishAttempt(p, x, outcome, sentAt);
      const last = i === limit - 1;
      if (last || x.headersSent || signal.aborted || !fallbackAllowed(failure, p.attempts.on)) throw failure;
      p.log.debug({ request: x.id, backend: attempt.backend.id, code: failure.code }, "attempt failed; trying the next");
      lastFailure = failure;
    }
  }
  // Only reached when the client left or the total budget ran out during a backoff wait.
  throw x.signal.aborted ? clientGone() : totalTimeout(p.timeouts.totalMs);
}

function finishAttempt(p: CompiledPipeline, x: Exchange, outcome: AttemptOutcome, sentAt: number): void {
  outcome.latencyMs = performance.now() - sentAt;
  p.hooks.attemptFinished.call(x, outcome);
}

/**
 * The total budget ran out. A 504, not a 408: the gateway was waiting on upstreams, not on the
 * client. Failure `timeout`, so the attempt it cut short counts as a timeout for health.
 */
export function totalTimeout(totalMs: number): GatewayError {
  return new GatewayError({ status: 504, type: "timeout", code: "request_timeout", message: `the request took longer than ${totalMs} ms`, failure: "timeout" });
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(chunk as Buffer);
  } catch (err) {
    throw bodyFailure(err);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * A plain reply whose body broke off (reset, idle timeout) after its headers: nothing reached the
 * client yet, so it is an attempt failure the loop may fall back on, not an internal error.
 */
function bodyFailure(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if ((err as { code?: string } | undefined)?.code === "UND_ERR_BODY_TIMEOUT") return upstreamTimeoutError("core", "body", err);
  return new GatewayError({ status: 502, type: "upstream_error", code: "upstream_body_failed", message: "the upstream broke off its reply before it finished", failure: "stream", cause: err });
}

function parseUpstreamJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new GatewayError({ status: 502, type: "upstream_error", code: "upstream_invalid_json", message: "the upstream answered with a body that is not JSON", failure: "status", upstreamStatus: 502 });
  }
}

async function plainReply(p: CompiledPipeline, x: Exchange, res: ServerResponse, reply: UpstreamReply, translation: Translation | undefined): Promise<void> {
  const raw = await readAll(reply.body);
  const parsed = parseUpstreamJson(raw);
  let out: string | Buffer = raw;
  if (translation) {
    const translated = translation.response(parsed);
    x.usage = translated.usage;
    out = JSON.stringify(translated.body);
  } else {
    x.usage = x.format.usageOf(parsed);
  }
  if (x.usage) p.hooks.usage.call(x);
  writeJson(x, res, 200, out);
}

/** Waits for the first body chunk: until it arrives nothing is committed and fallback is still possible. */
function firstChunk(body: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      cleanup();
      body.pause();
      resolve(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: unknown) => {
      cleanup();
      reject(streamFailure(err));
    };
    body.on("data", onData);
    body.on("end", onEnd);
    body.on("error", onError);
  });
}

async function streamReply(p: CompiledPipeline, x: Exchange, res: ServerResponse, reply: UpstreamReply, translation: Translation | undefined, policy: StreamPolicy, outcome: AttemptOutcome): Promise<void> {
  const first = await firstChunk(reply.body);
  if (first === null) {
    throw new GatewayError({ status: 502, type: "upstream_error", code: "upstream_empty_stream", message: "the upstream closed the stream without sending anything", failure: "stream" });
  }
  applyExchangeHeaders(x, res);
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" });
  x.headersSent = true;
  x.status = 200;
  x.ttfbMs = performance.now() - x.startedHr;

  let readUsage: () => typeof x.usage;
  const makeTarget = (write: RelayWrite): RelayTarget => {
    if (translation) {
      const stream = translation.stream(write);
      readUsage = () => stream.usage;
      return { passthrough: false, push: (ev) => stream.push(ev), end: () => stream.end(), error: (err) => stream.error(err) };
    }
    const observer = x.format.createStreamObserver();
    readUsage = () => observer.usage;
    return {
      passthrough: true,
      push: (ev) => observer.push(ev),
      end: () => {},
      // Mid-stream on the passthrough path there is no encoder yet: make one just for the error event.
      error: (err) => x.format.createStreamEncoder(x.ir ?? minimalIr(x), write).error(err),
    };
  };
  const result = await relayStream(reply.body, first, res, makeTarget, policy.keepAliveMs);
  x.usage = readUsage!();
  if (x.usage) p.hooks.usage.call(x);
  if (!result.ok) {
    outcome.failure = result.error.failure;
    outcome.errorCode = result.error.code;
    x.error = result.error;
    if (result.clientGone) throw clientGone();
  }
}

function minimalIr(x: Exchange): IrRequest {
  return { model: x.model ?? "", messages: [], stream: true };
}
