/**
 * The per-process StateStore.
 *
 * Sliding windows use the two-bucket weighted approximation (as Cloudflare's and nginx's limiters
 * do): a window keeps the count of its current fixed bucket and of the previous one, and estimates
 * `previous × (share of the previous bucket still inside the window) + current`. It costs O(1) memory
 * and time per key whatever the limit (token limits run into millions, which an exact sorted set of
 * one entry per unit could not hold), never lets more than `limit` through in any bucket-aligned
 * window, and errs only by assuming the previous bucket's hits were spread evenly.
 */
import { randomUUID } from "node:crypto";
import type { StateStore, WindowHit } from "../../core/index.js";

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

interface MemoryStoreOptions {
  /** Clock in epoch milliseconds; tests pass their own. */
  now?: () => number;
  /**
   * Most characters the `get`/`set` values may hold together (a response cache's answers, kept
   * responses): past it the least recently used values go first. Default 64 Mi.
   */
  maxValueChars?: number;
}

const DEFAULT_MAX_VALUE_CHARS = 64 * 1024 * 1024;

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
  // In least-recently-used order (a Map keeps insertion order: a read moves its entry to the end).
  const values = new Map<string, ValueEntry>();
  const maxValueChars = options.maxValueChars ?? DEFAULT_MAX_VALUE_CHARS;
  let valueChars = 0;
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
    for (const [key, entry] of values) if (entry.expiresAt <= t) dropValue(key);
    for (const map of all) for (const [key, entry] of map) if (entry.expiresAt <= t) map.delete(key);
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  function dropValue(key: string): void {
    const entry = values.get(key);
    if (!entry) return;
    valueChars -= entry.value.length;
    values.delete(key);
  }

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
      const entry = values.get(key);
      if (!entry) return undefined;
      values.delete(key);
      if (entry.expiresAt <= now()) {
        valueChars -= entry.value.length;
        return undefined;
      }
      values.set(key, entry);
      return entry.value;
    },
    async set(key, value, ttlMs) {
      dropValue(key);
      // A value larger than the whole bound would only empty the store: it is not kept.
      if (value.length > maxValueChars) return;
      values.set(key, { value, expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : now() + ttlMs });
      valueChars += value.length;
      for (const oldest of values.keys()) {
        if (valueChars <= maxValueChars) break;
        dropValue(oldest);
      }
    },
    async delete(key) {
      dropValue(key);
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
      valueChars = 0;
    },
  };
}

