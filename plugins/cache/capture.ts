/**
 * Seeing the final answer of a miss. The step wraps each planned backend's provider: the reply
 * body of every attempt it sends for a request being captured goes through a pass-through stream
 * that keeps a copy of its bytes (up to a bound) and notes whether it ended whole. Nothing is
 * parsed on the way: the bytes are read into IR once the request has settled, off the client's path.
 */
import { Transform, pipeline } from "node:stream";
import type { Attempt, Backend, Provider, UpstreamCall, UpstreamReply } from "../../core/index.js";

/** One request's upstream reply as the last attempt sent it. */
export class CapturedReply {
  format = "";
  streamed = false;
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;
  /** The body ended cleanly (not broken off, not abandoned by a client that left). */
  complete = false;

  constructor(private readonly maxBytes: number) {}

  /** A new attempt: what an earlier one sent is not the answer. */
  restart(call: UpstreamCall): void {
    this.format = call.format;
    this.streamed = call.stream;
    this.chunks = [];
    this.size = 0;
    this.overflowed = false;
    this.complete = false;
  }

  keep(chunk: Buffer): void {
    if (this.overflowed) return;
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.overflowed = true;
      this.chunks = [];
    } else this.chunks.push(chunk);
  }

  /** The whole body, or undefined when it did not end cleanly or outgrew the bound. */
  bytes(): Buffer | undefined {
    return this.complete && !this.overflowed ? Buffer.concat(this.chunks) : undefined;
  }
}

export class ReplyCapture {
  /** Replies being captured, by the gateway request id the provider call carries. */
  private readonly replies = new Map<string, CapturedReply>();
  private readonly wrapped = new WeakMap<Backend, Backend>();

  constructor(private readonly maxBytes: number) {}

  /** Capture the replies of request `requestId`; the same attempts, with providers that keep a copy. */
  start(requestId: string, attempts: Attempt[]): Attempt[] {
    this.replies.set(requestId, new CapturedReply(this.maxBytes));
    return attempts.map((a) => ({ backend: this.capturing(a.backend), model: a.model }));
  }

  /** Stops capturing `requestId`; what it captured. */
  finish(requestId: string): CapturedReply | undefined {
    const reply = this.replies.get(requestId);
    this.replies.delete(requestId);
    return reply;
  }

  private capturing(backend: Backend): Backend {
    let wrapped = this.wrapped.get(backend);
    if (!wrapped) {
      const inner = backend.provider;
      const provider: Provider = {
        formats: inner.formats,
        send: async (call) => this.tee(call, await inner.send(call)),
        // The pipeline closes the backend's own provider; this one holds nothing.
        close: async () => {},
      };
      wrapped = { ...backend, provider };
      this.wrapped.set(backend, wrapped);
    }
    return wrapped;
  }

  private tee(call: UpstreamCall, reply: UpstreamReply): UpstreamReply {
    const captured = this.replies.get(call.requestId);
    if (!captured) return reply;
    captured.restart(call);
    const copy = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        captured.keep(chunk);
        done(null, chunk);
      },
      flush(done) {
        captured.complete = true;
        done();
      },
    });
    // pipeline: a client that leaves (the copy destroyed) destroys the upstream body, and an upstream error reaches the reader.
    return { ...reply, body: pipeline(reply.body, copy, () => {}) };
  }
}
