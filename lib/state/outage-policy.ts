/** What a plugin does while its state store is unreachable: its `onUnavailable` policy, logged without flooding. */
import { GatewayError, StoreUnavailableError, type Exchange, type Logger, type UnavailablePolicy } from "../../core/index.js";

const OUTAGE_LOG_INTERVAL_MS = 10_000;

/**
 * How a plugin reacts when its store is unavailable. fail-open lets the request through with a
 * note on its record; fail-closed answers 503 (`unavailable`) in the client's format. Either way
 * the outage is logged: the first time at once, then at most every 10 s with how many requests
 * it touched, so an outage cannot flood the log.
 */
export class StoreOutagePolicy {
  private suppressed = 0;
  private lastLogAt = 0;

  constructor(
    readonly policy: UnavailablePolicy,
    private readonly log: Logger,
    private readonly source: string,
  ) {}

  /** For a failed store call in `validate`: the 503 to return (fail-closed) or undefined to go on (fail-open). Rethrows anything that is not an outage. */
  decide(err: unknown, exchange: Exchange): GatewayError | undefined {
    if (!(err instanceof StoreUnavailableError)) throw err;
    exchange.notes.push(`${this.source}: state store unavailable, request ${this.policy === "fail-open" ? "allowed unchecked (fail-open)" : "refused (fail-closed)"}`);
    this.warn(err, this.policy === "fail-open" ? "state store unavailable: letting requests through unchecked (fail-open)" : "state store unavailable: refusing requests (fail-closed)");
    if (this.policy === "fail-open") return undefined;
    return new GatewayError({
      status: 503,
      type: "unavailable",
      code: "state_store_unavailable",
      message: "The gateway cannot check this request's limits right now; try again shortly.",
      source: this.source,
      retryAfterMs: 1000,
    });
  }

  /** For a failed store call after the response (settling, releasing): logged, never thrown. */
  lost(err: unknown, what: string): void {
    if (!(err instanceof StoreUnavailableError)) {
      this.log.error({ err }, `${what} failed`);
      return;
    }
    this.warn(err, `state store unavailable: ${what} lost`);
  }

  private warn(err: StoreUnavailableError, message: string): void {
    const t = Date.now();
    if (t - this.lastLogAt < OUTAGE_LOG_INTERVAL_MS) {
      this.suppressed++;
      return;
    }
    this.log.warn({ reason: err.message, policy: this.policy, suppressed: this.suppressed }, message);
    this.lastLogAt = t;
    this.suppressed = 0;
  }
}
