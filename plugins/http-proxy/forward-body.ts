/**
 * The client's request body on an http route, ready to go to one attempt after another.
 *
 * Bodies up to limits.replayBodyBytes are read whole before the first attempt, so every attempt
 * can send them again. Larger ones (and bodies of unknown length that grow past that size) are
 * streamed to the upstream as they arrive, with backpressure, never held: a 50 MB upload costs
 * the gateway a few socket buffers. Such a body can still go to a second attempt while the first
 * took nothing past the part read ahead (its connection was refused); after that it cannot.
 */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { GatewayError } from "../../core/index.js";

export interface ForwardBodyLimits {
  /** limits.maxBodyBytes: past this the request fails with a 413. */
  maxBytes: number;
  /** limits.replayBodyBytes: bodies up to this are held whole. */
  replayBytes: number;
}

interface ReadAhead {
  chunks: Buffer[];
  size: number;
  ended: boolean;
}

export class ForwardBody {
  /** The stream handed to the attempt under way, when the body streams. */
  private current: Readable | undefined;
  /** Bytes past the read-ahead went to an attempt: the body cannot be sent again. */
  private taken = false;
  /** The request failed (client gone, too large): nothing more can be sent. */
  private broken = false;
  private ended = false;
  private received: number;

  private constructor(
    private readonly req: IncomingMessage,
    private readonly whole: Buffer | undefined,
    private readonly head: readonly Buffer[],
    headSize: number,
    private readonly maxBytes: number,
  ) {
    this.received = headSize;
  }

  /** Undefined when the request has no body; throws a 413 when it declares more than allowed. */
  static async read(req: IncomingMessage, limits: ForwardBodyLimits): Promise<ForwardBody | undefined> {
    const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
    const chunked = req.headers["transfer-encoding"] !== undefined;
    if (!chunked && !declared) return undefined;
    if (declared !== undefined && declared > limits.maxBytes) throw GatewayError.bodyTooLarge(limits.maxBytes);
    // A body known to be larger than the replay size streams from its first byte: no point waiting.
    const aheadLimit = declared !== undefined && declared > limits.replayBytes ? 0 : limits.replayBytes;
    const ahead = aheadLimit === 0 ? { chunks: [], size: 0, ended: false } : await readAhead(req, aheadLimit, limits.maxBytes);
    if (ahead.ended) {
      const whole = ahead.chunks.length === 1 ? ahead.chunks[0]! : Buffer.concat(ahead.chunks, ahead.size);
      return new ForwardBody(req, whole, [], ahead.size, limits.maxBytes);
    }
    return new ForwardBody(req, undefined, ahead.chunks, ahead.size, limits.maxBytes);
  }

  /** Can another attempt still send this body? */
  replayable(): boolean {
    return this.whole !== undefined || (!this.taken && !this.broken);
  }

  /** The body for one attempt: the held Buffer, or a fresh stream over the request. */
  forAttempt(): Readable | Buffer {
    if (this.whole !== undefined) return this.whole;
    this.release();
    const { req } = this;
    let headAt = 0;
    let attached = false;
    const onData = (chunk: Buffer) => {
      this.received += chunk.length;
      if (this.received > this.maxBytes) {
        this.broken = true;
        out.destroy(GatewayError.bodyTooLarge(this.maxBytes));
        return;
      }
      this.taken = true;
      if (!out.push(chunk)) req.pause();
    };
    const onEnd = () => {
      this.ended = true;
      detach();
      out.push(null);
    };
    const onGone = () => {
      if (this.ended) return;
      this.broken = true;
      out.destroy(GatewayError.clientClosed());
    };
    const detach = () => {
      if (!attached) return;
      attached = false;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onGone);
      req.off("close", onGone);
      if (!this.ended) req.pause();
    };
    const out: Readable = new Readable({
      read: () => {
        while (headAt < this.head.length) {
          if (!out.push(this.head[headAt++])) return;
        }
        if (this.ended) {
          out.push(null);
          return;
        }
        if (!attached) {
          attached = true;
          req.on("data", onData);
          req.on("end", onEnd);
          req.on("error", onGone);
          req.on("close", onGone);
        }
        req.resume();
      },
      destroy: (err, callback) => {
        detach();
        if (this.current === out) this.current = undefined;
        callback(err);
      },
    });
    this.current = out;
    return out;
  }

  /** Lets go of the request after a failed attempt, so it is not read into a stream nobody drains. */
  release(): void {
    if (this.current !== undefined && !this.current.destroyed) this.current.destroy();
    this.current = undefined;
  }
}

/** Reads until `limit` bytes are passed (then pauses the request) or the body ends. */
function readAhead(req: IncomingMessage, limit: number, maxBytes: number): Promise<ReadAhead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onGone);
      req.off("close", onGone);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.pause();
        reject(GatewayError.bodyTooLarge(maxBytes));
      } else if (size > limit) {
        cleanup();
        req.pause();
        resolve({ chunks, size, ended: false });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ chunks, size, ended: true });
    };
    const onGone = () => {
      cleanup();
      reject(GatewayError.clientClosed());
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onGone);
    req.on("close", onGone);
  });
}
