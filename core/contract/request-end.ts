/**
 * How a request's end reaches the work done for it (issue 12: the AbortController, its AbortSignal
 * and the EventTarget listeners undici adds and removes on it were the largest single cost the
 * gateway added to a proxied request). One plain EventEmitter per request: undici takes it as a
 * request's `signal` as it is; an AbortSignal is made only when something asks for `signal`.
 */
import { EventEmitter } from "node:events";

export class RequestEnd extends EventEmitter {
  aborted = false;
  /** Why it ended: the GatewayError saying whether the client left or the total time ran out. */
  reason: unknown = undefined;
  private controller: AbortController | undefined;

  /** An AbortSignal for APIs that take only that, made on first use and aborted with the end. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.emit("abort");
  }
}
