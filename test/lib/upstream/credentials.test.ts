import { describe, expect, it } from "vitest";
import { ApiKeyRing, apiKeyRingFor } from "../../../lib/upstream/credentials.js";
import { GatewayError, type Logger } from "../../../core/index.js";
import { silentLogger } from "../../../lib/log.js";

const KEYS = ["sk-key-one-0000", "sk-key-two-0000", "sk-key-three-00"];

function upstreamError(status: number, retryAfterMs?: number): GatewayError {
  return new GatewayError({ status: status === 429 ? 429 : 401, type: status === 429 ? "rate_limit" : "authentication", code: `upstream_http_${status}`, message: `upstream ${status}`, failure: "status", upstreamStatus: status, retryAfterMs });
}

/** A ring on a hand-moved clock, and a send that answers per key from `script` (default: ok). */
function ring(options: { keys?: string[]; rateLimitCooldownMs?: number; authCooldownMs?: number; log?: Logger } = {}) {
  const clock = { t: 0 };
  const keys = new ApiKeyRing({ keys: options.keys ?? KEYS, source: "provider-test", log: options.log ?? silentLogger, now: () => clock.t, rateLimitCooldownMs: options.rateLimitCooldownMs, authCooldownMs: options.authCooldownMs });
  const used: string[] = [];
  const script = new Map<string, () => Error>();
  const call = () =>
    keys.send(async (key) => {
      used.push(key);
      const fail = script.get(key);
      if (fail) throw fail();
      return `ok:${key}`;
    });
  return { clock, keys, used, script, call };
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(() => expect.unreachable("expected a failure"), (e: unknown) => e);
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe("ApiKeyRing", () => {
  it("rotates round-robin over the keys", async () => {
    const r = ring();
    for (let i = 0; i < 4; i++) await r.call();
    expect(r.used).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[0]]);
  });

  it("moves on to the next key within the same call after a 429, and skips the cooling key until its retry-after", async () => {
    const r = ring();
    r.script.set(KEYS[0]!, () => upstreamError(429, 5_000));
    expect(await r.call()).toBe(`ok:${KEYS[1]}`);
    r.script.clear();
    await r.call();
    await r.call();
    expect(r.used).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[1]]);
    r.clock.t = 5_000;
    await r.call();
    expect(r.used.at(-1)).toBe(KEYS[2]);
    await r.call();
    expect(r.used.at(-1)).toBe(KEYS[0]);
  });

  it("cools a 429 without retry-after for rateLimitCooldownMs", async () => {
    const r = ring({ keys: KEYS.slice(0, 2), rateLimitCooldownMs: 2_000 });
    r.script.set(KEYS[0]!, () => upstreamError(429));
    await r.call();
    r.script.clear();
    r.clock.t = 1_999;
    await r.call();
    await r.call();
    expect(r.used).toEqual([KEYS[0], KEYS[1], KEYS[1], KEYS[1]]);
    r.clock.t = 2_000;
    await r.call();
    expect(r.used.at(-1)).toBe(KEYS[0]);
  });

  it("cools a key rejected with 401 for authCooldownMs and logs it by number and fingerprint, never by value", async () => {
    const lines: unknown[] = [];
    const log = { ...silentLogger, warn: (obj: unknown, msg: string) => lines.push({ obj, msg }), debug: () => {} } as unknown as Logger;
    const r = ring({ authCooldownMs: 60_000, log });
    r.script.set(KEYS[1]!, () => upstreamError(401));
    await r.call();
    expect(await r.call()).toBe(`ok:${KEYS[2]}`);
    expect(r.used).toEqual([KEYS[0], KEYS[1], KEYS[2]]);
    expect(JSON.stringify(lines)).toMatch(/"key":"#2 of 3 \(sha256:[0-9a-f]{8}\)"/);
    for (const key of KEYS) expect(JSON.stringify(lines)).not.toContain(key);
    r.script.clear();
    r.clock.t = 59_999;
    await r.call();
    await r.call();
    expect(r.used.slice(3)).toEqual([KEYS[0], KEYS[2]]);
  });

  it("fails at once with a 429 carrying the soonest key's retry-after when every key is cooling", async () => {
    const r = ring();
    r.script.set(KEYS[0]!, () => upstreamError(429, 9_000));
    r.script.set(KEYS[1]!, () => upstreamError(429, 4_000));
    r.script.set(KEYS[2]!, () => upstreamError(401));
    const first = await failure(r.call());
    // Rate-limited and nothing left: the 429, with the soonest return rather than the last key's.
    expect(first).toMatchObject({ status: 429, upstreamStatus: 429, retryAfterMs: 4_000 });
    expect(r.used).toHaveLength(3);

    r.clock.t = 1_000;
    const next = await failure(r.call());
    expect(next).toMatchObject({ status: 429, type: "rate_limit", code: "api_keys_cooling", failure: "status", upstreamStatus: 429, retryAfterMs: 3_000 });
    expect(r.used).toHaveLength(3);

    r.clock.t = 4_000;
    r.script.clear();
    expect(await r.call()).toBe(`ok:${KEYS[1]}`);
  });

  it("passes the 401 on when every key was rejected", async () => {
    const r = ring({ keys: KEYS.slice(0, 2) });
    r.script.set(KEYS[0]!, () => upstreamError(401));
    r.script.set(KEYS[1]!, () => upstreamError(401));
    expect(await failure(r.call())).toMatchObject({ status: 401, upstreamStatus: 401 });
  });

  it("tries each key at most once per call, even when retry-after is 0", async () => {
    const r = ring();
    for (const key of KEYS) r.script.set(key, () => upstreamError(429, 0));
    expect(await failure(r.call())).toMatchObject({ status: 429, retryAfterMs: 0 });
    expect(r.used).toHaveLength(3);
  });

  it("does not cool a key for other failures, and throws them as they are", async () => {
    const r = ring();
    const boom = new GatewayError({ status: 502, type: "upstream_error", code: "upstream_http_500", message: "x", failure: "status", upstreamStatus: 500 });
    r.script.set(KEYS[0]!, () => boom);
    expect(await failure(r.call())).toBe(boom);
    r.script.clear();
    await r.call();
    await r.call();
    await r.call();
    expect(r.used).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[0]]);
  });

  it("rejects an empty list, duplicates and keys that cannot travel in a header", () => {
    const make = (keys: string[]) => () => new ApiKeyRing({ keys, source: "provider-test", log: silentLogger });
    expect(make([])).toThrow("provider-test: apiKeys needs at least one key");
    expect(make(["sk-aaaa", "sk-aaaa"])).toThrow("provider-test: apiKeys lists the same key twice");
    expect(make(["sk-aaaa\r\nx-evil: 1"])).toThrow("provider-test: an API key has a line break or NUL in it");
  });
});

describe("apiKeyRingFor", () => {
  it("makes a ring for apiKeys, none for a single apiKey, and refuses both", () => {
    expect(apiKeyRingFor({ apiKeys: ["sk-aaaa", "sk-bbbb"] }, "provider-test", silentLogger)).toBeInstanceOf(ApiKeyRing);
    expect(apiKeyRingFor({ apiKey: "sk-aaaa" }, "provider-test", silentLogger)).toBeUndefined();
    expect(apiKeyRingFor({}, "provider-test", silentLogger)).toBeUndefined();
    expect(() => apiKeyRingFor({ apiKey: "sk-aaaa", apiKeys: ["sk-bbbb"] }, "provider-test", silentLogger)).toThrow("provider-test: set apiKey or apiKeys, not both");
  });
});
