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
    const settle = (err: unknown) => {
      options.signal.removeEventListener("abort", onAbort);
      socket.off("open", onOpen);
      if (err === undefined) return resolve(socket);
      socket.removeAllListeners();
      socket.on("error", () => undefined); // a late error of a socket given up on
      socket.terminate();
      reject(err);
    };
    // Not read until the relay listens: a greeting sent at once must wait for the client's socket.
    const onOpen = () => (socket.pause(), settle(undefined));
    socket.once("open", onOpen);
    socket.once("unexpected-response", (_req, res: IncomingMessage) => {
      res.resume();
      settle(upstreamStatusError({ status: res.statusCode ?? 502, retryAfterMs: parseRetryAfter(res.headers), source: options.source }));
    });
    socket.once("error", (err: Error & { code?: string }) => {
      if (options.signal.aborted) return settle(options.signal.reason);
      if (/timed out/i.test(err.message)) return settle(upstreamTimeoutError(options.source, "headers", err));
      settle(upstreamConnectError(options.source, err.code ?? "handshake failed", err));
    });
  });
}
