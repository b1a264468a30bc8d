import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore, slidingWindow } from "../../../lib/state/memory.js";
import { StoreOutagePolicy } from "../../../lib/state/outage-policy.js";
import { StoreUnavailableError, type StateStore } from "../../../core/contract/store.js";
import { createTestExchange } from "../../../testkit/index.js";
import { silentLogger } from "../../../lib/log.js";
import { GatewayError } from "../../../core/contract/errors.js";
import { describeStoreContract } from "./store-contract.js";

const opened: StateStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

describeStoreContract("memory", () => {
  const store = createMemoryStore();
  opened.push(store);
  return store;
});

describe("memory store over time", () => {
  function clocked() {
    const clock = { t: 1_000_000 };
    const store = createMemoryStore({ now: () => clock.t });
    opened.push(store);
    return { clock, store };
  }

  it("slides: the previous bucket's hits count by the share of it still inside the window", async () => {
    const { clock, store } = clocked();
    for (let i = 0; i < 10; i++) expect((await store.hit("k", 1000, 10)).allowed).toBe(true);
    clock.t += 1500; // half-way into the next bucket: 10 × 0.5 = 5 still count
    const allowed = [];
    for (let i = 0; i < 7; i++) allowed.push((await store.hit("k", 1000, 10)).allowed);
    expect(allowed).toEqual([true, true, true, true, true, false, false]);
  });

  it("retryAfterMs is exactly when the refused cost first fits", async () => {
    const { clock, store } = clocked();
    clock.t = 100_100; // 100 ms into a 1000 ms bucket
    for (let i = 0; i < 10; i++) await store.hit("k", 1000, 10);
    const refused = await store.hit("k", 1000, 10);
    expect(refused.allowed).toBe(false);
    clock.t += refused.retryAfterMs - 1;
    expect((await store.hit("k", 1000, 10)).allowed).toBe(false);
    clock.t += 1;
    expect((await store.hit("k", 1000, 10)).allowed).toBe(true);
  });

  it("resetMs is when the window has fully drained", async () => {
    const { clock, store } = clocked();
    clock.t = 200_250;
    const hit = await store.hit("k", 1000, 10, 4);
    expect(hit.resetMs).toBe(1750);
    clock.t += hit.resetMs;
    expect(await store.hit("k", 1000, 10, 10)).toMatchObject({ allowed: true, count: 10 });
  });

  it("forgets a window idle for two buckets", async () => {
    const { clock, store } = clocked();
    await store.hit("k", 1000, 5, 5);
    clock.t += 2000;
    expect((await store.hit("k", 1000, 5, 5)).allowed).toBe(true);
  });

  it("adjustHit on a bucket that became the previous one corrects the decaying share", async () => {
    const { clock, store } = clocked();
    clock.t = 300_000;
    const first = await store.hit("k", 1000, 10, 10);
    clock.t += 1000; // next bucket at elapsed 0: the previous 10 still count fully
    expect((await store.hit("k", 1000, 10)).allowed).toBe(false);
    await store.adjustHit("k", 1000, first.slot, -10);
    expect((await store.hit("k", 1000, 10)).allowed).toBe(true);
  });

  it("counters, values and leases expire", async () => {
    const { clock, store } = clocked();
    await store.reserve("budget", 5, 5, 1000);
    await store.set("v", "x", 1000);
    await store.acquire("slots", 1, 1000);
    expect((await store.reserve("budget", 1, 5, 1000)).allowed).toBe(false);
    expect((await store.acquire("slots", 1, 1000)).acquired).toBe(false);
    clock.t += 1000;
    expect((await store.reserve("budget", 1, 5, 1000)).allowed).toBe(true);
    expect(await store.get("v")).toBeUndefined();
    expect((await store.acquire("slots", 1, 1000)).acquired).toBe(true);
  });

  it("slidingWindow never lets a cost larger than the limit through and gives a retry after a full window", () => {
    const { hit } = slidingWindow(5_000, 1000, 10, 11, undefined);
    expect(hit.allowed).toBe(false);
    expect(hit.retryAfterMs).toBe(2000);
  });
});

describe("StoreOutagePolicy", () => {
  it("fail-open lets the request through with a note", () => {
    const exchange = createTestExchange();
    const outcome = new StoreOutagePolicy("fail-open", silentLogger, "ratelimit").decide(new StoreUnavailableError("redis not connected"), exchange);
    expect(outcome).toBeUndefined();
    expect(exchange.notes.join(" ")).toMatch(/fail-open/);
  });

  it("fail-closed answers 503 unavailable", () => {
    const exchange = createTestExchange();
    const outcome = new StoreOutagePolicy("fail-closed", silentLogger, "budget").decide(new StoreUnavailableError("redis timeout"), exchange);
    expect(outcome).toBeInstanceOf(GatewayError);
    expect(outcome).toMatchObject({ status: 503, type: "unavailable", code: "state_store_unavailable", source: "budget" });
  });

  it("rethrows errors that are not outages", () => {
    const policy = new StoreOutagePolicy("fail-open", silentLogger, "ratelimit");
    expect(() => policy.decide(new TypeError("bug"), createTestExchange())).toThrow(TypeError);
  });
});

describe("memory store values are bounded", () => {
  it("evicts the least recently used values past maxValueChars, a read counting as a use", async () => {
    const store = createMemoryStore({ maxValueChars: 30 });
    opened.push(store);
    await store.set("a", "x".repeat(10));
    await store.set("b", "y".repeat(10));
    await store.set("c", "z".repeat(10));
    expect(await store.get("a")).toBe("x".repeat(10)); // a is now the most recently used
    await store.set("d", "w".repeat(10)); // 40 chars: the oldest, b, goes
    expect(await store.get("b")).toBeUndefined();
    expect(await store.get("a")).toBeDefined();
    expect(await store.get("c")).toBeDefined();
    expect(await store.get("d")).toBeDefined();
    await store.set("huge", "h".repeat(31)); // larger than the bound: not kept, nothing evicted for it
    expect(await store.get("huge")).toBeUndefined();
    expect(await store.get("a")).toBeDefined();
  });

  it("replacing or deleting a value frees its share of the bound", async () => {
    const store = createMemoryStore({ maxValueChars: 20 });
    opened.push(store);
    await store.set("a", "x".repeat(10));
    await store.set("a", "x".repeat(10));
    await store.set("b", "y".repeat(10));
    expect(await store.get("a")).toBeDefined();
    await store.delete("a");
    await store.set("c", "z".repeat(10));
    expect(await store.get("b")).toBeDefined();
    expect(await store.get("c")).toBeDefined();
  });
});

describe("openStateStore for a memory spec", () => {
  it("bounds the values by the spec's maxValueChars", async () => {
    const { openStateStore } = await import("../../../lib/state/open.js");
    const store = await openStateStore({ kind: "memory", maxValueChars: 2048 }, silentLogger);
    opened.push(store);
    await store.set("a", "x".repeat(1500));
    await store.set("b", "y".repeat(1500));
    expect(await store.get("a")).toBeUndefined();
    expect(await store.get("b")).toBe("y".repeat(1500));
  });
});
