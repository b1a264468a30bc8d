/**
 * The shared-state contract plugins program against (rate limits, budgets, concurrency, small
 * values): in memory by default, in Redis when several gateway instances must share it (both in
 * lib/state). Every check-and-change is ONE atomic operation of the store, never a read here and a
 * write there. A key belongs to one kind of operation (window, counter, value, leases); callers
 * namespace keys.
 */
export type StoreHealth = "ok" | "unavailable";

/** What a plugin does when the store cannot be reached: let the request through (logged) or answer 503. */
export type UnavailablePolicy = "fail-open" | "fail-closed";

export interface WindowHit {
  allowed: boolean;
  /** The window's estimated count after this hit (before it, when refused), rounded up. */
  count: number;
  /** `limit - count`, never below 0. */
  remaining: number;
  /** Milliseconds until the window has drained back to zero (what OpenAI's `x-ratelimit-reset-*` report). */
  resetMs: number;
  /** When refused: milliseconds until `cost` would fit; 0 when allowed. */
  retryAfterMs: number;
  /** The bucket the cost went into: pass it to `adjustHit` to correct an estimate later. */
  slot: number;
}

export interface Reservation {
  allowed: boolean;
  /** The counter after the reservation (unchanged when refused). */
  total: number;
  /** `limit - total`, never below 0. */
  remaining: number;
}

export interface Lease {
  acquired: boolean;
  /** Leases held after this call (including this one when acquired). */
  count: number;
  /** Pass to `release`; meaningful only when acquired. */
  id: string;
}

export interface StoreStatus {
  kind: "memory" | "redis";
  health: StoreHealth;
  /** ISO time of the last health change (or of creation). */
  since: string;
  /** Why it is unavailable: an error code, never an address or a secret. */
  detail?: string;
}

export interface StateStore {
  readonly kind: "memory" | "redis";
  /** The pipeline's default policy when this store is unavailable; a plugin's own `onUnavailable` overrides it. */
  readonly onUnavailable: UnavailablePolicy;
  /** Sliding-window check-and-increment: counts `cost` and allows it only if the window stays within `limit`. */
  hit(key: string, windowMs: number, limit: number, cost?: number): Promise<WindowHit>;
  /** Corrects an earlier hit by `delta` (an estimate settled to the actual cost); a no-op once its bucket left the window. */
  adjustHit(key: string, windowMs: number, slot: number, delta: number): Promise<void>;
  /** Adds `amount` to a counter only if the total stays within `limit`; the counter expires `ttlMs` after it was created. */
  reserve(key: string, amount: number, limit: number, ttlMs: number): Promise<Reservation>;
  /** Adds `delta` (may be negative; the total never goes below 0) to a counter expiring `ttlMs` after creation; returns the total. */
  add(key: string, delta: number, ttlMs: number): Promise<number>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Takes one of `limit` concurrency slots; a lease not released expires after `leaseMs` (a crashed instance frees its slots). */
  acquire(key: string, limit: number, leaseMs: number): Promise<Lease>;
  release(key: string, leaseId: string): Promise<void>;
  health(): StoreHealth;
  /** For the server's /readyz. */
  status(): StoreStatus;
  close(): Promise<void>;
}

/** Thrown by every store operation that could not reach its backing service. */
export class StoreUnavailableError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "StoreUnavailableError";
  }
}

