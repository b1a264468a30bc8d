/**
 * The StateStore in Redis (ioredis), for several gateway instances sharing limits and budgets.
 * Each check-and-change is one Lua script, so it is atomic across every instance; the clock is
 * Redis's own (`TIME`), so instances with skewed clocks still agree on windows and leases.
 *
 * While Redis is unreachable every operation fails at once with StoreUnavailableError (no offline
 * queue: a request must not wait for a reconnect), and a hung Redis costs at most
 * `commandTimeoutMs`. ioredis keeps reconnecting in the background; `health()` follows it.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { StoreUnavailableError, type Lease, type Logger, type Reservation, type StateStore, type StoreHealth, type StoreStatus, type UnavailablePolicy, type WindowHit } from "../../core/index.js";

interface RedisStoreOptions {
  /** redis:// or rediss:// URL; may carry a password, so it is never logged. */
  url: string;
  keyPrefix?: string;
  onUnavailable?: UnavailablePolicy;
  commandTimeoutMs?: number;
  log: Logger;
}

export interface RedisStateStore extends StateStore {
  readonly kind: "redis";
  /** Resolves with the health once connected, or after `timeoutMs` if Redis is not reachable by then; never rejects. */
  ready(timeoutMs: number): Promise<StoreHealth>;
}

// Scripts calling TIME and then writing need effects replication before Redis 7 (a no-op since).
const NOW = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Mirrors `slidingWindow` in store.ts. KEYS[1] is a hash: s = bucket number, c = its count, p = previous bucket's count. */
const HIT = `${NOW}
local window, limit, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local slot = math.floor(now / window)
local elapsed = now - slot * window
local h = redis.call('HMGET', KEYS[1], 's', 'c', 'p')
local s = tonumber(h[1])
local current, previous = 0, 0
if s ~= nil and s >= slot then
  current, previous = tonumber(h[2]) or 0, tonumber(h[3]) or 0
elseif s ~= nil and s == slot - 1 then
  previous = tonumber(h[2]) or 0
end
local estimate = previous * (window - elapsed) / window + current
local allowed = estimate + cost <= limit
local retry = 0
if allowed then
  current = current + cost
elseif current + cost <= limit and previous > 0 then
  retry = window - window * (limit - cost - current) / previous - elapsed
else
  local extra = window
  if cost <= limit and current > 0 then extra = math.max(0, window - window * (limit - cost) / current) end
  retry = window - elapsed + extra
end
redis.call('HSET', KEYS[1], 's', slot, 'c', current, 'p', previous)
redis.call('PEXPIRE', KEYS[1], 2 * window)
local count = estimate
if allowed then count = estimate + cost end
local reset = 0
if current > 0 then reset = 2 * window - elapsed elseif previous > 0 then reset = window - elapsed end
return {allowed and 1 or 0, tostring(count), reset, math.ceil(retry), slot}
`;

const ADJUST_HIT = `
local s = tonumber(redis.call('HGET', KEYS[1], 's'))
local slot, delta = tonumber(ARGV[1]), tonumber(ARGV[2])
local field
if s == nil then return 0 elseif s == slot then field = 'c' elseif s == slot + 1 then field = 'p' else return 0 end
local v = (tonumber(redis.call('HGET', KEYS[1], field)) or 0) + delta
if v < 0 then v = 0 end
redis.call('HSET', KEYS[1], field, v)
return 1
`;

const RESERVE = `
local amount, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local before = redis.call('GET', KEYS[1]) or '0'
if tonumber(before) + amount > limit then return {0, before} end
local total = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, total}
`;

const ADD = `
local total = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if tonumber(total) < 0 then total = '0' redis.call('SET', KEYS[1], total) end
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total
`;

/** KEYS[1] is a sorted set of lease ids scored by their expiry. */
const ACQUIRE = `${NOW}
local limit, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then return {0, count} end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return {1, count + 1}
`;

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;
const SCRIPTS = { swHit: HIT, swAdjust: ADJUST_HIT, ctrReserve: RESERVE, ctrAdd: ADD, leaseAcquire: ACQUIRE } as const;

/** An error's kind without its text: ioredis messages can carry addresses. */
function describeFailure(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof e.code === "string") return e.code;
    if (e.name === "ReplyError" && typeof e.message === "string") return `reply ${e.message.split(" ")[0] ?? ""}`.trim();
    if (typeof e.message === "string" && /timed out/i.test(e.message)) return "timeout";
    if (typeof e.message === "string" && /writeable|closed/i.test(e.message)) return "not connected";
  }
  return "error";
}

export function createRedisStore(options: RedisStoreOptions): RedisStateStore {
  const { log } = options;
  const client = new Redis(options.url, {
    keyPrefix: options.keyPrefix ?? "switchyard:",
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 500,
    maxRetriesPerRequest: 0,
    // Reconnect forever, backing off to 2 s: the gateway keeps serving by its policy meanwhile.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  });
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 1, lua });
  const scripts = client as unknown as Record<keyof typeof SCRIPTS, ScriptCall>;

  let health: StoreHealth = "unavailable";
  let since = new Date().toISOString();
  let detail: string | undefined = "connecting";
  let closing = false;
  const setHealth = (next: StoreHealth, why?: string) => {
    detail = next === "ok" ? undefined : why;
    if (next === health) return;
    health = next;
    since = new Date().toISOString();
    if (closing) return;
    if (next === "ok") log.info("state store: redis connected");
    else log.warn({ reason: why }, "state store: redis unavailable");
  };
  client.on("ready", () => setHealth("ok"));
  client.on("error", (err) => setHealth("unavailable", describeFailure(err)));
  client.on("close", () => setHealth("unavailable", "not connected"));

  async function run<T>(op: () => Promise<T>): Promise<T> {
    if (client.status !== "ready") throw new StoreUnavailableError(`redis ${detail ?? "not connected"}`);
    try {
      const result = await op();
      if (health !== "ok" && client.status === "ready") setHealth("ok");
      return result;
    } catch (err) {
      const why = describeFailure(err);
      // A reply error is Redis answering; anything else (a timeout on a hung Redis whose socket
      // still looks ready, a connection dropped mid-command) means it cannot be reached.
      if (!(err instanceof Error && err.name === "ReplyError")) setHealth("unavailable", why);
      throw new StoreUnavailableError(`redis ${why}`, err);
    }
  }

  return {
    kind: "redis",
    onUnavailable: options.onUnavailable ?? "fail-open",
    ready(timeoutMs) {
      const current = (): StoreHealth => (client.status === "ready" ? "ok" : "unavailable");
      if (client.status === "ready") return Promise.resolve(current());
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          client.off("ready", done);
          resolve(current());
        };
        const timer = setTimeout(done, timeoutMs);
        client.once("ready", done);
      });
    },
    async hit(key, windowMs, limit, cost = 1): Promise<WindowHit> {
      const [allowed, count, resetMs, retryAfterMs, slot] = (await run(() => scripts.swHit(key, windowMs, limit, cost))) as [number, string, number, number, number];
      const rounded = Math.max(0, Math.ceil(Number(count) - 1e-9));
      return {
        allowed: allowed === 1,
        count: rounded,
        remaining: Math.max(0, limit - rounded),
        resetMs,
        retryAfterMs: allowed === 1 ? 0 : Math.max(1, retryAfterMs),
        slot,
      };
    },
    async adjustHit(key, windowMs, slot, delta) {
      await run(() => scripts.swAdjust(key, slot, delta));
    },
    async reserve(key, amount, limit, ttlMs): Promise<Reservation> {
      const [allowed, total] = (await run(() => scripts.ctrReserve(key, amount, limit, Math.ceil(ttlMs)))) as [number, string];
      const value = Number(total);
      return { allowed: allowed === 1, total: value, remaining: Math.max(0, limit - value) };
    },
    async add(key, delta, ttlMs) {
      return Number(await run(() => scripts.ctrAdd(key, delta, Math.ceil(ttlMs))));
    },
    async get(key) {
      return (await run(() => client.get(key))) ?? undefined;
    },
    async set(key, value, ttlMs) {
      await run(() => (ttlMs === undefined ? client.set(key, value) : client.set(key, value, "PX", Math.max(1, Math.ceil(ttlMs)))));
    },
    async delete(key) {
      await run(() => client.del(key));
    },
    async acquire(key, limit, leaseMs): Promise<Lease> {
      const id = randomUUID();
      const [acquired, count] = (await run(() => scripts.leaseAcquire(key, limit, Math.ceil(leaseMs), id))) as [number, number];
      return { acquired: acquired === 1, count, id };
    },
    async release(key, leaseId) {
      await run(() => client.zrem(key, leaseId));
    },
    health: () => (client.status === "ready" ? health : "unavailable"),
    status(): StoreStatus {
      const h = client.status === "ready" ? health : "unavailable";
      return h === "ok" ? { kind: "redis", health: h, since } : { kind: "redis", health: h, since, detail: detail ?? "not connected" };
    },
    async close() {
      closing = true;
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}
