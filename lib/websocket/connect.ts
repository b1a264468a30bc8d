/**
 * The gateway's side of a WebSocket to a backend: opened once per attempt inside the core's attempt
 * loop, and failures named as for HTTP calls (refused: `connect`; slow: `timeout`; a non-101 answer:
 * `status` with its code and retry-after), so fallback rules, health and key rings work unchanged.
 */
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";
import { parseRetryAfter, upstreamConnectError, upstreamStatusError, upstreamTimeoutError } from "../upstream/errors.js";
import type { SocketTarget } from "../upstream/socket-target.js";

export interface UpstreamSocketOptions {
  protocols: readonly string[];
  deflate: boolean;
  maxPayload: number;
  /** Milliseconds for the upstream to answer the handshake. */
  timeoutMs: number;
  signal: AbortSignal;
  /** The provider plugin's name, the source of its errors. */
  source: string;
}

/** Resolves with the open socket, paused, once the upstream answered 101; rejects with a GatewayError otherwise. */
export function openUpstreamSocket(target: SocketTarget, options: UpstreamSocketOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(target.url, [...options.protocols], {
      headers: target.headers as Record<string, string>,
      perMessageDeflate: options.deflate,
      maxPayload: options.maxPayload,
      handshakeTimeout: options.timeoutMs,
      autoPong: false, // pings are the client's to answer: relayed end to end
      followRedirects: false,
    });
    const onAbort = () => socket.terminate();
    options.signal.addEventListener("abort", onAbort, { once: true });
    const onResponse = (_req: unknown, res: IncomingMessage) => {
      res.resume();
      settle(upstreamStatusError({ status: res.statusCode ?? 502, retryAfterMs: parseRetryAfter(res.headers), source: options.source }));
    };
    const onError = (err: Error & { code?: string }) => {
      if (options.signal.aborted) return settle(options.signal.reason);
      if (/timed out/i.test(err.message)) return settle(upstreamTimeoutError(options.source, "headers", err));
      settle(upstreamConnectError(options.source, err.code ?? "handshake failed", err));
    };
    // Not read until the relay listens: a greeting sent at once must wait for the client's socket.
    const onOpen = () => (socket.pause(), settle(undefined));
    const settle = (err: unknown) => {
      options.signal.removeEventListener("abort", onAbort);
      socket.off("open", onOpen).off("unexpected-response", onResponse).off("error", onError);
      // An error before the relay listens (or after it is given up on) must not be an unhandled one; the relay adds its own.
      socket.on("error", () => undefined);
      if (err === undefined) return resolve(socket);
      socket.terminate();
      reject(err);
    };
    socket.once("open", onOpen);
    socket.once("unexpected-response", onResponse);
    socket.once("error", onError);
  });
}
