/**
 * Shared state for plugins (rate limits, budgets, concurrency, small values): one small interface,
 * in memory by default, in Redis (store-redis.ts) when several gateway instances must share it.
 * Every check-and-change is ONE atomic operation of the store, never a read here and a write there.
 *
 * Sliding windows use the two-bucket weighted approximation (as Cloudflare's and nginx's limiters
 * do): a window keeps the count of its current fixed bucket and of the previous one, and estimates
 * `previous × (share of the previous bucket still inside the window) + current`. It costs O(1) memory
 * and time per key whatever the limit (token limits run into millions, which an exact sorted set of
 * one entry per unit could not hold), never lets more than `limit` through in any bucket-aligned
 * window, and errs only by assuming the previous bucket's hits were spread evenly.
 *
 * A key belongs to one kind of operation (window, counter, value, leases); callers namespace keys.
 */
import { randomUUID } from "node:crypto";
import { GatewayError } from "./errors.js";
import type { Exchange } from "./exchange.js";
import type { Logger } from "./log.js";

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

/** The two-bucket estimate and its timings; shared by the memory store and mirrored by the Redis Lua script. */
export function slidingWindow(
  now: number,
  windowMs: number,
  limit: number,
  cost: number,
  bucket: { slot: number; current: number; previous: number } | undefined,
): { hit: WindowHit; current: number; previous: number } {
  const slot = Math.floor(now / windowMs);
  const elapsed = now - slot * windowMs;
  let current = 0;
  let previous = 0;
  if (bucket && bucket.slot >= slot) {
    current = bucket.current;
    previous = bucket.previous;
  } else if (bucket && bucket.slot === slot - 1) {
    previous = bucket.current;
  }
  const estimate = (previous * (windowMs - elapsed)) / windowMs + current;
  const allowed = estimate + cost <= limit;
  let retryAfterMs = 0;
  if (allowed) current += cost;
  else if (current + cost <= limit) {
    // Fits within this bucket once enough of the previous one has slid out.
    retryAfterMs = windowMs - (windowMs * (limit - cost - current)) / previous - elapsed;
  } else {
    // Needs the next bucket, where this bucket's count becomes the decaying previous one.
    retryAfterMs = windowMs - elapsed + (cost <= limit ? Math.max(0, windowMs - (windowMs * (limit - cost)) / current) : windowMs);
  }
  const count = Math.max(0, Math.ceil((allowed ? estimate + cost : estimate) - 1e-9));
  const resetMs = current > 0 ? 2 * windowMs - elapsed : previous > 0 ? windowMs - elapsed : 0;
  return {
    hit: { allowed, count, remaining: Math.max(0, limit - count), resetMs, retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil(retryAfterMs)), slot },
    current,
    previous,
  };
}

export interface MemoryStoreOptions {
  /** Clock in epoch milliseconds; tests pass their own. */
  now?: () => number;
}

interface Expiring {
  expiresAt: number;
}
interface WindowEntry extends Expiring {
  slot: number;
  current: number;
  previous: number;
}
interface CounterEntry extends Expiring {
  value: number;
}
interface ValueEntry extends Expiring {
  value: string;
}
interface LeaseEntry extends Expiring {
  leases: Map<string, number>;
}

const SWEEP_INTERVAL_MS = 30_000;

/** The per-process store: every operation is synchronous inside, so atomic by construction. */
export function createMemoryStore(options: MemoryStoreOptions = {}): StateStore {
  const now = options.now ?? Date.now;
  const windows = new Map<string, WindowEntry>();
  const counters = new Map<string, CounterEntry>();
  const values = new Map<string, ValueEntry>();
  const leases = new Map<string, LeaseEntry>();
  const all = [windows, counters, values, leases] as Map<string, Expiring>[];
  const since = new Date(now()).toISOString();

  function live<E extends Expiring>(map: Map<string, E>, key: string): E | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }
  const sweep = setInterval(() => {
    const t = now();
    for (const map of all) for (const [key, entry] of map) if (entry.expiresAt <= t) map.delete(key);
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  function liveLeases(key: string): Map<string, number> {
    const entry = live(leases, key);
    if (!entry) return new Map();
    const t = now();
    for (const [id, expiresAt] of entry.leases) if (expiresAt <= t) entry.leases.delete(id);
    return entry.leases;
  }

  return {
    kind: "memory",
    onUnavailable: "fail-open",
    async hit(key, windowMs, limit, cost = 1) {
      const t = now();
      const result = slidingWindow(t, windowMs, limit, cost, live(windows, key));
      windows.set(key, { slot: result.hit.slot, current: result.current, previous: result.previous, expiresAt: t + 2 * windowMs });
      return result.hit;
    },
    async adjustHit(key, windowMs, slot, delta) {
      const entry = live(windows, key);
      if (!entry) return;
      if (entry.slot === slot) entry.current = Math.max(0, entry.current + delta);
      else if (entry.slot === slot + 1) entry.previous = Math.max(0, entry.previous + delta);
    },
    async reserve(key, amount, limit, ttlMs) {
      const entry = live(counters, key);
      const total = entry?.value ?? 0;
      if (total + amount > limit) return { allowed: false, total, remaining: Math.max(0, limit - total) };
      if (entry) entry.value = total + amount;
      else counters.set(key, { value: amount, expiresAt: now() + ttlMs });
      return { allowed: true, total: total + amount, remaining: Math.max(0, limit - total - amount) };
    },
    async add(key, delta, ttlMs) {
      const entry = live(counters, key);
      const total = Math.max(0, (entry?.value ?? 0) + delta);
      if (entry) entry.value = total;
      else counters.set(key, { value: total, expiresAt: now() + ttlMs });
      return total;
    },
    async get(key) {
      return live(values, key)?.value;
    },
    async set(key, value, ttlMs) {
      values.set(key, { value, expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : now() + ttlMs });
    },
    async delete(key) {
      for (const map of all) map.delete(key);
    },
    async acquire(key, limit, leaseMs) {
      const held = liveLeases(key);
      const id = randomUUID();
      if (held.size >= limit) return { acquired: false, count: held.size, id };
      const expiresAt = now() + leaseMs;
      held.set(id, expiresAt);
      const entry = leases.get(key);
      if (entry) entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
      else leases.set(key, { leases: held, expiresAt });
      return { acquired: true, count: held.size, id };
    },
    async release(key, leaseId) {
      leases.get(key)?.leases.delete(leaseId);
    },
    health: () => "ok",
    status: () => ({ kind: "memory", health: "ok", since }),
    async close() {
      clearInterval(sweep);
      for (const map of all) map.clear();
    },
  };
}

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

/** The pipeline file's `store` property. */
export type StoreSpec = import("./generated/pipeline.js").Store;

/**
 * The store a pipeline's plugins share, from its `store` property (memory when absent). A Redis
 * store waits up to `connectTimeoutMs` (default 2000) for its first connection, then starts
 * anyway, unavailable, and keeps reconnecting: plugins follow `onUnavailable` meanwhile.
 */
export async function openStateStore(spec: StoreSpec | undefined, log: Logger): Promise<StateStore> {
  if (!spec || spec.kind === "memory") return createMemoryStore();
  // Imported here rather than at the top: store-redis.ts imports this file.
  const { createRedisStore } = await import("./store-redis.js");
  const store = createRedisStore({ url: spec.url, keyPrefix: spec.keyPrefix, onUnavailable: spec.onUnavailable, commandTimeoutMs: spec.commandTimeoutMs, log });
  if ((await store.ready(spec.connectTimeoutMs ?? 2000)) !== "ok") log.warn({ policy: store.onUnavailable }, "state store: redis not reachable at start; serving by the onUnavailable policy until it is");
  return store;
}
