/**
 * A response body that sends prepared chunks at a pace, like a socket would: optionally too
 * slowly for the reader's body timeout, or breaking off mid-way. Aborting the call or
 * destroying the body stops every timer.
 */
import { Readable } from "node:stream";

export interface PacedBodyOptions {
  chunks: readonly string[];
  /** Pause between chunks; with 0 chunks still go out one per event-loop turn, so readers see each before a break. */
  delayMs: number;
  /** The reader's allowed silence; a longer `delayMs` fails the body with `timeoutError()` after it. 0 = none. */
  bodyTimeoutMs: number;
  /** Break off with `dropError()` (one pause) after this many chunks instead of ending. */
  dropAfter?: number;
  signal: AbortSignal;
  dropError(): Error;
  timeoutError(): Error;
}

export function pacedBody(options: PacedBodyOptions): Readable {
  const { chunks, delayMs, bodyTimeoutMs, dropAfter, signal } = options;
  const until = dropAfter === undefined ? chunks.length : Math.min(dropAfter, chunks.length);
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;

  const stop = (): void => {
    clearTimeout(timer);
    clearImmediate(immediate);
    signal.removeEventListener("abort", onAbort);
  };
  const body = new Readable({
    read() {},
    destroy(err, callback) {
      stop();
      callback(err);
    },
  });
  function onAbort(): void {
    body.destroy(signal.reason as Error);
  }

  const later = (fn: () => void): void => {
    if (delayMs === 0) immediate = setImmediate(fn);
    else if (bodyTimeoutMs > 0 && delayMs > bodyTimeoutMs) timer = setTimeout(() => body.destroy(options.timeoutError()), bodyTimeoutMs);
    else timer = setTimeout(fn, delayMs);
  };
  const send = (): void => {
    if (next < until) {
      body.push(chunks[next++]);
      if (next < until) return later(send);
    }
    if (dropAfter !== undefined) return later(() => body.destroy(options.dropError()));
    stop();
    body.push(null);
  };

  if (signal.aborted) {
    body.destroy(signal.reason as Error);
    return body;
  }
  signal.addEventListener("abort", onAbort, { once: true });
  send();
  return body;
}
