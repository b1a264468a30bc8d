/**
 * A RequestEnd for calls the gateway makes on its own clock (health probes, token exchanges),
 * which have an AbortSignal (a timeout, a stop) rather than a client's request behind them.
 */
import { RequestEnd } from "../../core/index.js";

export function endOfSignal(signal: AbortSignal): RequestEnd {
  const end = new RequestEnd();
  if (signal.aborted) end.abort(signal.reason);
  else signal.addEventListener("abort", () => end.abort(signal.reason), { once: true });
  return end;
}
