/** The Redis store against a real redis-server: the contract, atomicity across instances, outages. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../lib/log.js";
import { openStateStore } from "../../../lib/state/open.js";
import { StoreUnavailableError, type StateStore } from "../../../core/contract/store.js";
import { createRedisStore, type RedisStateStore } from "../../../lib/state/redis.js";
import { skipWithoutRedis, startRedisServer, type RedisServer } from "../../support/redis-server.js";
import { freePort } from "../../support/free-port.js";
import { waitUntil } from "../../support/wait.js";
import { describeStoreContract } from "./store-contract.js";

let redis: RedisServer;
const stores: StateStore[] = [];

async function connect(options: { keyPrefix?: string; commandTimeoutMs?: number } = {}): Promise<RedisStateStore> {
  const store = createRedisStore({ url: redis.url, log: silentLogger, keyPrefix: options.keyPrefix ?? "test:", commandTimeoutMs: options.commandTimeoutMs });
  stores.push(store);
  expect(await store.ready(5000)).toBe("ok");
  return store;
}


beforeAll(async () => {
  redis = await startRedisServer();
  await connect();
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

describe.skipIf(skipWithoutRedis())("redis store", () => {
  let shared: Promise<RedisStateStore> | undefined;
  describeStoreContract("redis", () => (shared ??= connect()));

  it("two instances on one Redis let no more than the limit through under concurrent load", async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const limit = 50;
    const tries = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? a : b).hit("global:concurrent", 60_000, limit));
    const results = await Promise.all(tries);
    const passed = results.filter((r) => r.allowed).length;
    console.log(`redis sliding window: limit ${limit}, ${results.length} concurrent hits from 2 instances, ${passed} passed, overshoot ${passed - limit}`);
    expect(passed).toBe(limit);
  });

  it("reservations from two instances never push a counter past its limit", async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).reserve("budget:concurrent", 30_000, 1_000_000, 60_000)));
    const passed = results.filter((r) => r.allowed).length;
    const total = Math.max(...results.map((r) => r.total));
    console.log(`redis reserve: limit 1000000, 300 concurrent reservations of 30000, ${passed} passed, max total ${total}`);
    expect(passed).toBe(33);
    expect(total).toBe(990_000);
  });

  it("concurrency leases hold across instances, and an unreleased lease expires", async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    // Leases of 2 s: long enough that none expires while the 40 calls race on a loaded machine.
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).acquire("slots:concurrent", 5, 2_000)));
    expect(results.filter((r) => r.acquired).length).toBe(5);
    expect((await a.acquire("slots:concurrent", 5, 2_000)).acquired).toBe(false);
    // Nobody releases: a slot comes free only because the leases expire.
    await waitUntil(async () => (await a.acquire("slots:concurrent", 5, 2_000)).acquired, () => "no slot came free", { intervalMs: 100 });
  });

  it("key prefixes keep deployments apart", async () => {
    const [a, b] = await Promise.all([connect({ keyPrefix: "one:" }), connect({ keyPrefix: "two:" })]);
    expect((await a.hit("same", 60_000, 1)).allowed).toBe(true);
    expect((await b.hit("same", 60_000, 1)).allowed).toBe(true);
    expect((await a.hit("same", 60_000, 1)).allowed).toBe(false);
  });

  it("reports unavailable and fails fast while Redis is down, then recovers when it is back", async () => {
    const store = await connect();
    await store.hit("outage:before", 60_000, 10);
    await redis.kill();
    await waitUntil(() => store.health() === "unavailable", () => `store health ${store.health()}, expected unavailable`);
    expect(store.status()).toMatchObject({ kind: "redis", health: "unavailable" });
    expect(store.status().detail).toBeTruthy();
    expect(JSON.stringify(store.status())).not.toContain(String(redis.port));
    await expect(store.hit("outage:during", 60_000, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.reserve("outage:during", 1, 10, 1000)).rejects.toBeInstanceOf(StoreUnavailableError);
    await redis.start();
    await waitUntil(() => store.health() === "ok", () => `store health ${store.health()}, expected ok`);
    // A fresh server has no scripts cached: the client must load them again.
    expect((await store.hit("outage:after", 60_000, 10)).allowed).toBe(true);
    expect(store.status()).toMatchObject({ health: "ok" });
  });

  it("a hung Redis fails each operation after commandTimeoutMs and reports unavailable until it answers again", async () => {
    const store = await connect({ commandTimeoutMs: 200 });
    redis.pause();
    try {
      await expect(store.hit("hung", 60_000, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(store.health()).toBe("unavailable");
      expect(store.status().detail).toBe("timeout");
    } finally {
      redis.resume();
    }
    expect((await store.hit("hung-after", 60_000, 10)).allowed).toBe(true);
    expect(store.health()).toBe("ok");
  });

  it("openStateStore starts unavailable, without throwing, when Redis cannot be reached", async () => {
    const port = await freePort();
    const store = await openStateStore({ kind: "redis", url: `redis://127.0.0.1:${port}`, onUnavailable: "fail-closed", connectTimeoutMs: 300 }, silentLogger);
    stores.push(store);
    expect(store.kind).toBe("redis");
    expect(store.onUnavailable).toBe("fail-closed");
    expect(store.health()).toBe("unavailable");
    await expect(store.get("x")).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it("openStateStore gives a memory store when the pipeline names none", async () => {
    const store = await openStateStore(undefined, silentLogger);
    stores.push(store);
    expect(store.kind).toBe("memory");
  });
});
