/**
 * One request on a proxy route, from the plan to the last byte: every backend (in file order) is a
 * candidate for the selectors, the core's attempt loop retries and falls back, the request goes
 * to the backend's `forward` as it came, both bodies stream byte for byte with backpressure, and
 * the upstream's status is the client's, unless `attempts.on` lists it and another attempt follows.
 */
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { GatewayError, readBody, type Attempt, type AttemptOutcome, type EndpointIo, type Exchange, type PipelineHooks, type UpstreamReply } from "../../core/index.js";
import { parseRetryAfter, upstreamStatusError } from "../../lib/upstream/errors.js";
import { ForwardBody } from "./forward-body.js";
import { credentialHeadersOf } from "../../lib/auth/credential-headers.js";
import { headersDownstream, headersUpstream } from "./proxy-headers.js";

export const PLUGIN = "http-proxy";

/**
 * Methods a second upstream may safely be sent after the first might have acted (RFC 9110
 * §9.2.2). Others move on only when the first never got the request (a refused connection).
 */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Bytes of a discarded upstream reply read so its socket can be kept; past this it is closed. */
const DISCARD_LIMIT = 64 * 1024;

export async function proxyRequest(x: Exchange, io: EndpointIo, hooks: PipelineHooks, candidates: readonly Attempt[]): Promise<void> {
  const { req, res, pipeline: p } = io;
  const attempts = await hooks.plan.promise(candidates.slice(), x);
  if (attempts.length === 0) {
    throw new GatewayError({ status: 503, type: "unavailable", code: "no_backend_available", message: `no backend of pipeline ${p.id} is available` });
  }
  const body = await ForwardBody.read(req, { maxBytes: p.limits.maxBodyBytes, replayBytes: p.limits.replayBodyBytes });
  const method = req.method ?? "GET";
  const path = originForm(req.url);
  const headers = headersUpstream(req, credentialHeadersOf(x));
  const idempotent = IDEMPOTENT.has(method);
  try {
    await io.walkAttempts(attempts, {
      mayRetry: (failure) => (body?.replayable() ?? true) && (idempotent || failure.failure === "connect"),
      prepare: (attempt) => async (outcome, turn) => {
        const forward = attempt.backend.provider.forward;
        if (forward === undefined) throw GatewayError.internal(PLUGIN, new Error(`backend ${attempt.backend.id} cannot forward`));
        let reply: UpstreamReply;
        try {
          reply = await forward.call(attempt.backend.provider, {
            method, path, headers: x.upstreamHeaders ? { ...headers, ...x.upstreamHeaders } : headers, body: body?.forAttempt(), end: x.end, requestId: x.id,
            headersTimeoutMs: p.timeouts.firstByteMs,
            bodyTimeoutMs: p.timeouts.idleMs,
          });
        } catch (err) {
          body?.release();
          throw err;
        }
        outcome.status = reply.status;
        outcome.ttfbMs = performance.now() - turn.sentAt;
        if (reply.status >= 400) {
          const failure = upstreamStatusError({ status: reply.status, retryAfterMs: parseRetryAfter(reply.headers), source: attempt.backend.use });
          if (turn.movesOn(failure)) {
            body?.release();
            await discard(reply.body);
            throw failure;
          }
        }
        x.backend = attempt.backend.id;
        await relayReply(x, io, reply, outcome);
      },
    });
  } finally {
    // Whatever happened, the request is not to be read into a stream that nobody drains.
    if (!req.complete) body?.release();
  }
}

/** Commits the upstream's reply: status and end-to-end headers, then the body byte for byte. */
async function relayReply(x: Exchange, io: EndpointIo, reply: UpstreamReply, outcome: AttemptOutcome): Promise<void> {
  const res = io.res;
  const headers = headersDownstream(reply.headers);
  for (const name in headers) res.setHeader(name, headers[name]!);
  // The gateway's own headers win over an upstream's of the same name.
  io.applyExchangeHeaders();
  res.writeHead(reply.status);
  x.headersSent = true;
  x.status = reply.status;
  x.ttfbMs = performance.now() - x.startedHr;
  try {
    await relayBody(reply.body, res);
  } catch (err) {
    const reason: unknown = x.end.reason;
    if (reason instanceof GatewayError && reason.code === "client_closed_request") throw reason;
    // Mid-body there is no status left to change: the client sees the body cut short.
    const failure = reason instanceof GatewayError ? reason : GatewayError.upstreamBodyBroke(err);
    outcome.failure = failure.failure;
    outcome.errorCode = failure.code;
    x.error = failure;
  }
}

/**
 * The upstream body to the client, byte for byte: `pipe` pauses the upstream while the client's
 * socket is full. Resolves when the client has it all; on failure destroys both sides (the client
 * sees its body cut short). Not stream.pipeline: that one makes and aborts an AbortController per
 * call, and the DOMException of that abort was the largest single cost of a proxied request.
 */
function relayBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err: unknown) => {
      body.off("error", onBodyError);
      res.off("finish", onFinish);
      res.off("close", onClose);
      if (err === undefined) return resolve();
      body.unpipe(res);
      body.destroy();
      res.destroy();
      reject(err);
    };
    const onBodyError = (err: unknown) => settle(err);
    const onFinish = () => settle(undefined);
    const onClose = () => {
      if (!res.writableFinished) settle(Object.assign(new Error("the client closed the connection before the reply finished"), { code: "ERR_STREAM_PREMATURE_CLOSE" }));
    };
    body.once("error", onBodyError);
    res.once("finish", onFinish);
    res.once("close", onClose);
    body.pipe(res);
  });
}

/**
 * The request target as the upstream gets it: origin-form always. A client may send the
 * absolute form (`GET http://elsewhere/x`, RFC 9112 §3.2.2); passed on as is, an upstream that
 * is itself a proxy would go where the client said, and upstream addresses come only from
 * pipeline files.
 */
export function originForm(target: string | undefined): string {
  if (target === undefined) return "/";
  if (target.startsWith("/")) return target;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return "/";
  }
}

/** Reads a reply that will not be passed on, so its socket goes back to the pool; a large one is cut. */
async function discard(body: Readable): Promise<void> {
  // A body that fails while discarded changes nothing.
  await readBody(body, { maxBytes: DISCARD_LIMIT, overLimit: "truncate" }).catch(() => undefined);
}
