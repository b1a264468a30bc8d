/**
 * One WebSocket session relayed between a client and an upstream, both ends already open:
 * messages both ways as they came (text stays text, binary stays binary, no re-encoding), pings and
 * pongs end to end, backpressure (a side whose peer is slow to take its messages is not read), an
 * idle timeout, the drain's "going away", and the totals a session's record keeps.
 *
 * Close rules: a side that closes cleanly has its code and reason passed on; an upstream that drops
 * (no close frame, a socket error) closes the client with 1011; a client that leaves, however it
 * leaves, closes the upstream at once. Either way the other side gets a close frame after any
 * message already queued, never a frame cut short.
 */
import WebSocket from "ws";

/** Bytes queued towards one side before the other side is no longer read. */
const HIGH_WATER = 1024 * 1024;
/** After a close frame, how long a peer may take to answer before its socket is cut. */
const CLOSE_GRACE_MS = 5_000;

export interface SessionTotals {
  durationMs: number;
  /** Client -> upstream. */
  framesUp: number;
  bytesUp: number;
  /** Upstream -> client. */
  framesDown: number;
  bytesDown: number;
  /** The close code the client sent or got (1005: none given; 1006: the connection dropped). */
  clientCloseCode?: number;
  upstreamCloseCode?: number;
  /** Who ended the session: `client`, `upstream`, `idle`, `drain`, `gateway` (a step, a limit), `upstream-dropped`, `too-large`. */
  endedBy: string;
  /** Why, in words safe to store. */
  reason?: string;
}

export interface RelayHooks {
  /** Each message from the upstream, before it goes to the client (realtime reads usage here). Must be cheap and synchronous. */
  fromUpstream?(data: Buffer, isBinary: boolean): void;
  /** Each message from the client, before it goes upstream. */
  fromClient?(data: Buffer, isBinary: boolean): void;
  /** Bytes as they pass, for live connection metrics. */
  counted?(direction: "up" | "down", bytes: number): void;
}

export interface RelayOptions {
  /** Milliseconds without a frame either way before the session is closed (1001); 0: never. */
  idleTimeoutMs: number;
  /** Aborted at the drain deadline: the session is closed with 1001 "going away". */
  closing: AbortSignal;
  /** Called once, before any message passes: what to do with the messages, given the relay to end the session with. */
  watch?(relay: SessionRelay): RelayHooks;
}

/** Codes a close frame may carry (RFC 6455 §7.4): 1005, 1006 and 1015 are only ever reported. */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** Close reasons are at most 123 bytes of UTF-8. */
function shortReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** `onClose` once `socket` closed; at once (as a drop) for a socket that closed before the relay listened. */
function whenClosed(socket: WebSocket, onClose: (code: number, reason: Buffer) => void): void {
  if (socket.readyState === WebSocket.CLOSED) queueMicrotask(() => onClose(1006, Buffer.alloc(0)));
  else socket.once("close", onClose);
}

export class SessionRelay {
  private readonly startedHr = performance.now();
  private readonly totals: Omit<SessionTotals, "durationMs" | "endedBy"> = { framesUp: 0, bytesUp: 0, framesDown: 0, bytesDown: 0 };
  private endedBy: string | undefined;
  private reason: string | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastFrameAt = performance.now();
  /** Resolves with the totals once both sockets are closed. */
  readonly done: Promise<SessionTotals>;

  constructor(private readonly client: WebSocket, private readonly upstream: WebSocket, private readonly options: RelayOptions) {
    const hooks = options.watch?.(this) ?? {};
    this.pipe(client, upstream, "up", hooks.fromClient, hooks.counted);
    this.pipe(upstream, client, "down", hooks.fromUpstream, hooks.counted);
    const clientClosed = new Promise<void>((resolve) => whenClosed(client, (code: number, reason: Buffer) => {
      this.totals.clientCloseCode = code;
      this.end("client", code === 1006 ? "the client's connection dropped" : reason.toString() || undefined);
      this.closeSide(upstream, sendable(code) ? code : 1001, reason.toString());
      resolve();
    }));
    const upstreamClosed = new Promise<void>((resolve) => whenClosed(upstream, (code: number, reason: Buffer) => {
      this.totals.upstreamCloseCode = code;
      if (code === 1006) {
        this.end("upstream-dropped", "the backend's connection dropped");
        this.closeSide(client, 1011, "backend connection lost");
      } else {
        this.end("upstream", reason.toString() || undefined);
        this.closeSide(client, sendable(code) ? code : 1000, reason.toString());
      }
      resolve();
    }));
    client.on("error", (err: Error & { code?: string }) => this.onError("client", err));
    upstream.on("error", (err: Error & { code?: string }) => this.onError("upstream", err));
    const onClosing = () => this.close(1001, "going away", "drain");
    if (options.closing.aborted) onClosing();
    else options.closing.addEventListener("abort", onClosing, { once: true });
    this.armIdle();
    // Paused until now (the upstream since it opened, a client whose first message was read early), so nothing is lost.
    upstream.resume();
    client.resume();
    this.done = Promise.all([clientClosed, upstreamClosed]).then(() => {
      options.closing.removeEventListener("abort", onClosing);
      clearTimeout(this.idleTimer);
      return { ...this.totals, durationMs: Math.round(performance.now() - this.startedHr), endedBy: this.endedBy ?? "gateway", ...(this.reason === undefined ? {} : { reason: this.reason }) };
    });
  }

  /** Ends the session from the gateway's side: both sides get `code` (after what is already queued). */
  close(code: number, reason: string, endedBy = "gateway"): void {
    this.end(endedBy, reason);
    this.closeSide(this.client, code, reason);
    this.closeSide(this.upstream, code === 1011 ? 1001 : code, reason);
  }

  /** A message of the gateway's own to the client (a realtime error event before a close). */
  sendToClient(text: string): void {
    if (this.client.readyState === WebSocket.OPEN) this.client.send(text);
  }

  private pipe(from: WebSocket, to: WebSocket, direction: "up" | "down", hook: RelayHooks["fromClient"], counted: RelayHooks["counted"]): void {
    const resumeWhenDrained = () => {
      if (from.isPaused && to.bufferedAmount <= HIGH_WATER / 2) from.resume();
    };
    from.on("message", (data: Buffer, isBinary: boolean) => {
      this.lastFrameAt = performance.now();
      if (direction === "up") {
        this.totals.framesUp++;
        this.totals.bytesUp += data.length;
      } else {
        this.totals.framesDown++;
        this.totals.bytesDown += data.length;
      }
      counted?.(direction, data.length);
      hook?.(data, isBinary);
      if (to.readyState !== WebSocket.OPEN) return;
      to.send(data, { binary: isBinary }, resumeWhenDrained);
      if (to.bufferedAmount > HIGH_WATER) from.pause();
    });
    from.on("ping", (data: Buffer) => {
      this.lastFrameAt = performance.now();
      if (to.readyState === WebSocket.OPEN) to.ping(data);
    });
    from.on("pong", (data: Buffer) => {
      this.lastFrameAt = performance.now();
      if (to.readyState === WebSocket.OPEN) to.pong(data);
    });
  }

  private onError(side: "client" | "upstream", err: Error & { code?: string }): void {
    // ws closes the socket after an error (a 1009 for a message over maxPayload); the close handler passes it on.
    if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") this.end("too-large", `a message from the ${side} was over the size limit`);
    else this.end(side === "client" ? "client" : "upstream-dropped", `${side} socket error (${err.code ?? "unknown"})`);
  }

  /** The first reason to end wins: what follows is its consequence. */
  private end(by: string, reason: string | undefined): void {
    if (this.endedBy !== undefined) return;
    this.endedBy = by;
    if (reason) this.reason = reason;
  }

  private closeSide(socket: WebSocket, code: number, reason: string): void {
    if (socket.readyState === WebSocket.CLOSED) return;
    if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.CLOSING) {
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      return;
    }
    socket.close(code, shortReason(reason));
    // A peer that never answers the close frame does not hold the session (or a drain) open.
    const cut = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    socket.once("close", () => clearTimeout(cut));
  }

  /** One timer per session, re-armed for the time left rather than reset on every frame. */
  private armIdle(): void {
    const idleMs = this.options.idleTimeoutMs;
    if (idleMs <= 0) return;
    const check = () => {
      const left = this.lastFrameAt + idleMs - performance.now();
      if (left > 0) this.idleTimer = setTimeout(check, left);
      else this.close(1001, "idle timeout", "idle");
    };
    this.idleTimer = setTimeout(check, idleMs);
  }
}
