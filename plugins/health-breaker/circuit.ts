/**
 * One backend's circuit: closed (serving), open (kept back until `openUntil`), half-open (open,
 * cooldown over: one probe at a time may go through). Plus a rate-limit cooldown that is not part
 * of the circuit. Everything is plain counters updated when an attempt reports, and time is read
 * from the caller's clock: no timers, nothing per request beyond a few comparisons.
 */

export interface CircuitRules {
  /** 0 = off. */
  readonly consecutiveFailures: number;
  /** 0 = off. */
  readonly errorRatio: number;
  readonly minRequests: number;
  readonly windowMs: number;
  readonly cooldownMs: number;
  readonly halfOpenSuccesses: number;
}

export type CircuitChange = "opened" | "reopened" | "closed" | undefined;

const SLICES = 10;

/** Attempts and failures over the last window, kept in SLICES time slices that are reset as they come round again. */
class RollingCounts {
  private readonly sliceMs: number;
  private readonly sliceIds = new Float64Array(SLICES).fill(Number.NEGATIVE_INFINITY);
  private readonly totals = new Uint32Array(SLICES);
  private readonly failures = new Uint32Array(SLICES);

  constructor(windowMs: number) {
    this.sliceMs = windowMs / SLICES;
  }

  add(now: number, failed: boolean): void {
    const id = Math.floor(now / this.sliceMs);
    const i = id % SLICES;
    if (this.sliceIds[i] !== id) {
      this.sliceIds[i] = id;
      this.totals[i] = 0;
      this.failures[i] = 0;
    }
    this.totals[i]!++;
    if (failed) this.failures[i]!++;
  }

  /** Failure share over the window, or -1 when fewer than `minRequests` attempts fell in it. */
  failureRatio(now: number, minRequests: number): number {
    const current = Math.floor(now / this.sliceMs);
    let total = 0;
    let failed = 0;
    for (let i = 0; i < SLICES; i++) {
      if (current - this.sliceIds[i]! >= SLICES) continue;
      total += this.totals[i]!;
      failed += this.failures[i]!;
    }
    return total < minRequests ? -1 : failed / total;
  }

  clear(): void {
    this.sliceIds.fill(Number.NEGATIVE_INFINITY);
    this.totals.fill(0);
    this.failures.fill(0);
  }
}

export class Circuit {
  private open = false;
  private openUntil = 0;
  private coolUntil = 0;
  private failuresInRow = 0;
  private probeSuccesses = 0;
  /** When the running probe was sent; NaN when none runs. */
  private probeSentAt = Number.NaN;
  private readonly window: RollingCounts;

  constructor(private readonly rules: CircuitRules) {
    this.window = new RollingCounts(rules.windowMs);
  }

  /** Whether a new request may go to this backend first. */
  available(now: number): boolean {
    if (now < this.coolUntil) return false;
    if (!this.open) return true;
    return now >= this.openUntil && !this.probeRunning(now);
  }

  /**
   * When a new request may go to this backend first again (`now` when it already may). A half-open
   * circuit whose probe is running gives `now` too: it is back as soon as the probe succeeds.
   */
  availableAt(now: number): number {
    return Math.max(now, this.coolUntil, this.open ? this.openUntil : now);
  }

  /** closed: serving; open: kept back until its cooldown ends; half-open: cooldown over, probes decide. */
  state(now: number): "closed" | "open" | "half-open" {
    return !this.open ? "closed" : now < this.openUntil ? "open" : "half-open";
  }

  /** Kept back only by a 429's cooldown, with its circuit closed. */
  rateLimited(now: number): boolean {
    return now < this.coolUntil && !this.open;
  }

  /** An attempt was sent: once the cooldown is over, the first one is the probe. */
  started(now: number): void {
    if (this.open && now >= this.openUntil && !this.probeRunning(now)) this.probeSentAt = now;
  }

  failed(now: number): CircuitChange {
    if (this.open) {
      this.trip(now);
      return "reopened";
    }
    this.failuresInRow++;
    this.window.add(now, true);
    const { consecutiveFailures, errorRatio, minRequests } = this.rules;
    const inRow = consecutiveFailures > 0 && this.failuresInRow >= consecutiveFailures;
    const byRatio = errorRatio > 0 && this.window.failureRatio(now, minRequests) >= errorRatio;
    if (!inRow && !byRatio) return undefined;
    this.trip(now);
    return "opened";
  }

  succeeded(now: number): CircuitChange {
    if (!this.open) {
      this.failuresInRow = 0;
      this.window.add(now, false);
      return undefined;
    }
    // Only successes after the cooldown count: one from a request sent before the circuit opened proves little.
    if (now < this.openUntil) return undefined;
    this.probeSentAt = Number.NaN;
    if (++this.probeSuccesses < this.rules.halfOpenSuccesses) return undefined;
    this.open = false;
    this.failuresInRow = 0;
    this.probeSuccesses = 0;
    this.window.clear();
    return "closed";
  }

  /** Keep the backend back until `now + ms` (a 429's retry-after), unless it already is for longer. */
  coolFor(now: number, ms: number): void {
    this.coolUntil = Math.max(this.coolUntil, now + ms);
  }

  private trip(now: number): void {
    this.open = true;
    this.openUntil = now + this.rules.cooldownMs;
    this.probeSuccesses = 0;
    this.probeSentAt = Number.NaN;
  }

  /** A probe that never reported back (lost, or a very long stream) stops blocking the next one after a cooldown. */
  private probeRunning(now: number): boolean {
    return now - this.probeSentAt < this.rules.cooldownMs;
  }
}
