/**
 * Relays an upstream SSE body to the client once the stream is committed (status line sent).
 * All per-chunk work is synchronous: parse SSE lines, hand events on, write. Backpressure both
 * ways: when the client's socket is full the upstream body is paused until it drains.
 */
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { GatewayError } from "../contract/errors.js";
import type { SseEvent } from "../contract/format.js";
import { SSE_KEEPALIVE, SseParser } from "./sse.js";

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

export function relayStream(
  body: Readable,
  first: Buffer,
  res: ServerResponse,
  makeTarget: (write: RelayWrite) => RelayTarget,
  keepAliveMs: number,
): Promise<RelayResult> {
  return new Promise((resolvePromise) => {
    let settled = false;
    let paused = false;
    const resume = () => {
      paused = false;
      body.resume();
    };
    const send = (data: string | Buffer) => {
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
      try {
        target.error(err);
      } finally {
        res.end();
        body.destroy();
        finish({ ok: false, error: err, clientGone: false });
      }
    };
    const onChunk = (chunk: Buffer) => {
      keepAlive?.refresh();
      batching = true;
      try {
        parser.push(chunk);
      } finally {
        flush();
      }
      if (target.output === "raw") send(chunk);
    };
    const onData = (chunk: Buffer) => {
      try {
        onChunk(chunk);
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
    try {
      onChunk(first);
    } catch (err) {
      fail(GatewayError.upstreamBodyBroke(err));
      return;
    }
    // An upstream that sent everything in one write may already have ended (or failed) while the
    // first chunk was awaited: 'end' is emitted on the nextTick queue, before this code ran.
    if (body.errored) return fail(GatewayError.upstreamBodyBroke(body.errored));
    if (body.readableEnded) return onEnd();
    body.once("error", (err) => fail(GatewayError.upstreamBodyBroke(err)));
    body.once("end", onEnd);
    body.on("data", onData);
    body.resume();
  });
}
