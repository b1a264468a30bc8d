/**
 * Several API keys for one backend, rotated as credentials, for every network provider (so that
 * three providers do not each copy it). Calls go round-robin over the keys that are not cooling
 * down. A 429 cools its key for the upstream's retry-after (or `rateLimitCooldownMs`) and the call
 * moves on to the next key at once; a 401 cools its key for `authCooldownMs` (a revoked or
 * mistyped key), logged by number and fingerprint, never by value. When every key is cooling the
 * call fails at once with a 429 whose retry-after is the soonest key's return.
 * State is per gateway process, like the provider's connection pool.
 */
import { createHash } from "node:crypto";
import { GatewayError, type Logger } from "../../core/index.js";

interface ApiKeyRingOptions {
  /** The keys, in rotation order; at least one. */
  keys: readonly string[];
  /** The provider's name, as error source and in logs. */
  source: string;
  log: Logger;
  /** Cooldown of a key after a 429 that carried no retry-after. Default 60 s. */
  rateLimitCooldownMs?: number;
  /** Cooldown of a key after a 401. Default 10 min. */
  authCooldownMs?: number;
  /** Monotonic milliseconds; tests pass a clock they move by hand. */
  now?: () => number;
}

/** The key settings every network provider's config shares. */
interface ApiKeyConfig {
  apiKey?: string;
  apiKeys?: string[];
  keyRateLimitCooldownMs?: number;
  keyAuthCooldownMs?: number;
}

/**
 * The ring for a provider config with `apiKeys`; undefined with a single `apiKey` (or none), which
 * the provider sends as a static header. Both at once is a config error naming the provider.
 */
export function apiKeyRingFor(config: ApiKeyConfig, source: string, log: Logger): ApiKeyRing | undefined {
  if (config.apiKeys === undefined) return undefined;
  if (config.apiKey !== undefined) throw configError(source, "set apiKey or apiKeys, not both");
  return new ApiKeyRing({ keys: config.apiKeys, source, log, rateLimitCooldownMs: config.keyRateLimitCooldownMs, authCooldownMs: config.keyAuthCooldownMs });
}

const DEFAULT_RATE_LIMIT_COOLDOWN_MS = 60_000;
const DEFAULT_AUTH_COOLDOWN_MS = 600_000;

export class ApiKeyRing {
  private readonly keys: readonly string[];
  private readonly coolUntil: Float64Array;
  private readonly source: string;
  private readonly log: Logger;
  private readonly rateLimitCooldownMs: number;
  private readonly authCooldownMs: number;
  private readonly now: () => number;
  private next = 0;

  constructor(options: ApiKeyRingOptions) {
    if (options.keys.length === 0) throw configError(options.source, "apiKeys needs at least one key");
    for (const key of options.keys) {
      // Keys travel in a header: a line break would split it (and a config check is cheaper than a request failure).
      if (/[\r\n\0]/.test(key)) throw configError(options.source, "an API key has a line break or NUL in it");
    }
    if (new Set(options.keys).size !== options.keys.length) throw configError(options.source, "apiKeys lists the same key twice");
    this.keys = options.keys;
    this.coolUntil = new Float64Array(options.keys.length);
    this.source = options.source;
    this.log = options.log;
    this.rateLimitCooldownMs = options.rateLimitCooldownMs ?? DEFAULT_RATE_LIMIT_COOLDOWN_MS;
    this.authCooldownMs = options.authCooldownMs ?? DEFAULT_AUTH_COOLDOWN_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Runs `send` with the next key not cooling down. When it fails with a 429 or a 401, that key
   * cools and `send` runs again with the next available key, each key at most once per call;
   * any other outcome is returned or thrown as it is.
   */
  async send<T>(send: (key: string) => Promise<T>): Promise<T> {
    let last: GatewayError | undefined;
    let rateLimited: GatewayError | undefined;
    for (let tries = 0; tries < this.keys.length; tries++) {
      const index = this.pick(this.now());
      if (index === undefined) break;
      try {
        return await send(this.keys[index]!);
      } catch (err) {
        if (!(err instanceof GatewayError) || !this.cool(index, err)) throw err;
        last = err;
        if (err.upstreamStatus === 429) rateLimited = err;
      }
    }
    const soonestMs = this.soonest(this.now());
    if (last === undefined) throw allCooling(this.source, soonestMs);
    // Rate-limited and no key left: a 429 whose retry-after is when any key is back, not the last one tried.
    if (rateLimited !== undefined && soonestMs > 0) throw withRetryAfter(rateLimited, soonestMs);
    throw last;
  }

  /** The next key in rotation that is not cooling down. */
  private pick(now: number): number | undefined {
    const n = this.keys.length;
    for (let step = 0; step < n; step++) {
      const index = (this.next + step) % n;
      if (this.coolUntil[index]! <= now) {
        this.next = (index + 1) % n;
        return index;
      }
    }
    return undefined;
  }

  /** Cools the key when `err` says the key (not the request) is the problem; true when it did. */
  private cool(index: number, err: GatewayError): boolean {
    const now = this.now();
    if (err.upstreamStatus === 429) {
      const ms = err.retryAfterMs ?? this.rateLimitCooldownMs;
      this.coolUntil[index] = Math.max(this.coolUntil[index]!, now + ms);
      this.log.debug({ source: this.source, key: this.label(index), cooldownMs: ms }, "API key rate-limited; cooling it");
      return true;
    }
    if (err.upstreamStatus === 401) {
      this.coolUntil[index] = Math.max(this.coolUntil[index]!, now + this.authCooldownMs);
      this.log.warn({ source: this.source, key: this.label(index), cooldownMs: this.authCooldownMs }, "API key rejected by the upstream (401); cooling it");
      return true;
    }
    return false;
  }

  /** Milliseconds until the first key is back (0 when one already is). */
  private soonest(now: number): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const until of this.coolUntil) soonest = Math.min(soonest, until);
    return Math.max(0, soonest - now);
  }

  /** "#2 of 3 (sha256:1a2b3c4d)": enough to find the key in a vault, nothing to use it with. */
  private label(index: number): string {
    const fingerprint = createHash("sha256").update(this.keys[index]!).digest("hex").slice(0, 8);
    return `#${index + 1} of ${this.keys.length} (sha256:${fingerprint})`;
  }
}

function allCooling(source: string, retryAfterMs: number): GatewayError {
  return new GatewayError({
    status: 429,
    type: "rate_limit",
    code: "api_keys_cooling",
    message: "every API key of this backend is cooling down after rate limits or rejections",
    // As if the upstream had said 429: the keys' own 429s are why, and the attempt loop's
    // fallback rules and health's rate-limit cooldown should treat it as one.
    failure: "status",
    upstreamStatus: 429,
    retryAfterMs,
    source,
  });
}

function withRetryAfter(err: GatewayError, retryAfterMs: number): GatewayError {
  return new GatewayError({
    status: err.status, type: err.type, code: err.code, message: err.message, param: err.param, failure: err.failure,
    upstreamStatus: err.upstreamStatus, retryAfterMs, headers: err.headers, source: err.source, cause: err,
  });
}

function configError(source: string, message: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", message: `${source}: ${message}`, source });
}
