/**
 * stream-sse's StreamRelay: waits for the upstream's first chunk (before it nothing is committed
 * and the attempt loop may still fall back), commits, then relays the SSE body to the client.
 * All per-chunk work is synchronous: parse SSE lines, hand events on, write. Backpressure both
 * ways: when the client's socket is full the upstream body is paused until it drains.
 */
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { GatewayError, type RelayResult, type RelayTarget, type RelayWrite } from "../../core/index.js";
import { SSE_KEEPALIVE, SseParser, endsOnEventBoundary, eventsAt } from "../../lib/wire/sse.js";

export async function relayStream(
  body: Readable,
  res: ServerResponse,
  commit: () => void,
  makeTarget: (write: RelayWrite) => RelayTarget,
  keepAliveMs: number,
  capture?: (string | Buffer)[],
): Promise<RelayResult> {
  const first = await firstChunk(body);
  if (first === null) {
    throw new GatewayError({ status: 502, type: "upstream_error", code: "upstream_empty_stream", message: "the upstream closed the stream without sending anything", failure: "stream", source: "stream-sse" });
  }
  commit();
  return relayCommitted(body, first, res, makeTarget, keepAliveMs, capture);
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
      reject(GatewayError.upstreamBodyBroke(err));
    };
    body.on("data", onData);
    body.on("end", onEnd);
    body.on("error", onError);
  });
}

/** `capture`: the exchange's kept reply (a record step digests the answer), which gets everything written but keep-alives. */
function relayCommitted(body: Readable, first: Buffer | undefined, res: ServerResponse, makeTarget: (write: RelayWrite) => RelayTarget, keepAliveMs: number, capture: (string | Buffer)[] | undefined): Promise<RelayResult> {
  return new Promise((resolvePromise) => {
    let settled = false;
    let paused = false;
    const resume = () => {
      paused = false;
      body.resume();
    };
    const send = (data: string | Buffer) => {
      capture?.push(data);
      if (!res.write(data) && !paused) {
        paused = true;
        body.pause();
        res.once("drain", resume);
      }
    };
    // What one upstream chunk turns into (often dozens of events) goes out as one write: a write
    // per event would cost a syscall and a chunked-encoding frame each.
    let batch = "";
    let batching = false;
    const write: RelayWrite = (data) => {
      if (batching && typeof data === "string") batch += data;
      else send(data);
    };
    const flush = () => {
      batching = false;
      if (batch.length > 0) {
        const out = batch;
        batch = "";
        send(out);
      }
    };
    const target = makeTarget(write);
    const parser = new SseParser((ev) => target.push(ev), target.output === "kept" ? write : undefined);
    // Passed through (raw or kept), a chunk of whole events is parsed only where the observer may
    // need an event (a usage chunk, a finish reason, an error); the rest reach the client as the
    // upstream's bytes. The events it reads go through a parser of their own, which hands nothing
    // on: a whole event leaves it as idle as it found it. Made on first use (held streams are many).
    const eventsWanted = target.output === "written" ? undefined : target.eventsWanted; // a translation writes its own bytes
    let dropped = false;
    let wantedParser: SseParser | undefined;
    const relayWanted = (chunk: Buffer, offsets: readonly number[]) => {
      if (offsets.length === 0) return send(chunk);
      wantedParser ??= new SseParser((ev) => {
        const keep = target.push(ev);
        if (keep === false) dropped = true;
        return keep;
      });
      // A push that throws (an error event) leaves this chunk unsent, as a whole-chunk parse would.
      let sentFrom = 0;
      const pieces: Buffer[] = [];
      for (const [from, to] of eventsAt(chunk, offsets)) {
        dropped = false;
        wantedParser.push(chunk.subarray(from, to));
        if (!dropped || target.output !== "kept") continue;
        if (from > sentFrom) pieces.push(chunk.subarray(sentFrom, from));
        sentFrom = to;
      }
      if (sentFrom === 0) return send(chunk);
      for (const piece of pieces) send(piece);
      if (sentFrom < chunk.length) send(chunk.subarray(sentFrom));
    };
    const keepAlive = keepAliveMs > 0 ? setTimeout(function ping() {
      if (!res.writableEnded) res.write(SSE_KEEPALIVE);
      keepAlive?.refresh();
    }, keepAliveMs) : undefined;

    const finish = (result: RelayResult) => {
      if (settled) return;
      settled = true;
      if (keepAlive) clearTimeout(keepAlive);
      body.off("data", onData);
      res.off("close", onClientClose);
      resolvePromise(result);
    };
    const fail = (err: GatewayError) => {
      if (settled) return;
      if (target.suspend?.(err)) {
        // The next attempt continues this stream: nothing more is written here, and the response stays open.
        body.destroy();
        return finish({ ok: false, error: err, clientGone: false, suspended: true });
      }
      try {
        target.error(err);
      } finally {
        res.end();
        body.destroy();
        finish({ ok: false, error: err, clientGone: false });
      }
    };
    const onData = (chunk: Buffer) => {
      try {
        keepAlive?.refresh();
        if (eventsWanted !== undefined && parser.idle() && endsOnEventBoundary(chunk)) return relayWanted(chunk, eventsWanted(chunk));
        batching = true;
        try {
          parser.push(chunk);
        } finally {
          flush();
        }
        if (target.output === "raw") send(chunk);
      } catch (err) {
        fail(GatewayError.upstreamBodyBroke(err));
      }
    };
    const onClientClose = () => {
      if (res.writableFinished) return;
      body.destroy();
      finish({ ok: false, error: GatewayError.clientClosed(), clientGone: true });
    };

    const onEnd = () => {
      // A failure already ended the response: a destroyed body may still emit the 'end' it had queued.
      if (settled) return;
      try {
        parser.end();
        target.end();
        res.end();
        finish({ ok: true });
      } catch (err) {
        fail(GatewayError.upstreamBodyBroke(err));
      }
    };

    res.on("close", onClientClose);
    const chunk = first!;
    // Every closure here shares the context that holds `first`: kept, it would pin the upstream's
    // first read (its headers too, ~0.7 KB) for as long as the stream stays open.
    first = undefined;
    onData(chunk);
    if (settled) return;
    // An upstream that sent everything in one write may already have ended (or failed) while the
    // first chunk was awaited: 'end' is emitted on the nextTick queue, before this code ran.
    if (body.errored) return fail(GatewayError.upstreamBodyBroke(body.errored));
    if (body.readableEnded) return onEnd();
    // `on`, not `once`: each comes at most once, and once()'s wrapper would be held per open stream.
    body.on("error", (err) => fail(GatewayError.upstreamBodyBroke(err)));
    body.on("end", onEnd);
    body.on("data", onData);
    body.resume();
  });
}
