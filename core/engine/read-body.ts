/**
 * The gateway's one body reader (a client's request, an upstream's reply or error), so limits and
 * broken streams mean the same everywhere. Plain listeners, not `for await`: an async iterator
 * costs a promise per chunk and shows in every request's profile.
 */
import type { Readable } from "node:stream";

export interface ReadBodyOptions {
  /** Most bytes to keep; past it the read stops (the rest is never buffered). */
  maxBytes?: number;
  /**
   * Past `maxBytes`: `"truncate"` resolves with the first `maxBytes` bytes and releases the stream
   * (an error body read only for its message); a function gives the error to reject with.
   */
  overLimit?: "truncate" | (() => Error);
  /** The error when the stream closes without ending (a client that went away mid-body). */
  closedEarly?: () => Error;
}

export function readBody(body: Readable, options: ReadBodyOptions = {}): Promise<Buffer> {
  const { maxBytes = Number.POSITIVE_INFINITY, overLimit, closedEarly } = options;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (size + chunk.length <= maxBytes) {
        chunks.push(chunk);
        size += chunk.length;
        return;
      }
      cleanup();
      if (overLimit === "truncate") {
        chunks.push(chunk.subarray(0, maxBytes - size));
        // Destroying an undici body emits an AbortError: nobody is waiting for it any more.
        body.on("error", () => undefined).destroy();
        resolve(Buffer.concat(chunks));
        return;
      }
      // Stop reading: the rest is never buffered (the caller answers and closes).
      body.pause();
      reject(typeof overLimit === "function" ? overLimit() : new RangeError(`body exceeds ${maxBytes} bytes`));
    };
    const onEnd = () => void (cleanup(), resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    const onError = (err: Error) => void (cleanup(), reject(err));
    const onClose = () => void (cleanup(), reject(closedEarly ? closedEarly() : new Error("the stream closed before it ended")));
    // Named calls: this runs twice per request, and a loop over Object.entries allocated each time.
    const cleanup = () => void body.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
    body.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}
