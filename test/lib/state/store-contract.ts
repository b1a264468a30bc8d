/** What every StateStore must do, run against the memory store and the Redis store alike. */
import { describe, expect, it } from "vitest";
import type { StateStore } from "../../../core/contract/store.js";

// Long enough that no test straddles a window boundary in practice.
const HOUR = 3_600_000;

export function describeStoreContract(name: string, open: () => StateStore | Promise<StateStore>): void {
  describe(`${name} store contract`, () => {
    let n = 0;
    const key = (what: string) => `contract:${what}:${process.pid}:${Date.now()}:${n++}`;

    it("hit allows up to the limit, then refuses with a retry delay and nothing remaining", async () => {
      const store = await open();
      const k = key("hit");
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await store.hit(k, HOUR, 3));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
      expect(results.map((r) => r.count)).toEqual([1, 2, 3, 3]);
      expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
      expect(results[3]!.retryAfterMs).toBeGreaterThan(0);
      expect(results[2]!.resetMs).toBeGreaterThan(0);
      expect(results[2]!.retryAfterMs).toBe(0);
    });

    it("hit counts its cost, and a refused hit counts nothing", async () => {
      const store = await open();
      const k = key("cost");
      expect((await store.hit(k, HOUR, 100, 60)).allowed).toBe(true);
      const refused = await store.hit(k, HOUR, 100, 50);
      expect(refused.allowed).toBe(false);
      expect(refused.count).toBe(60);
      const fits = await store.hit(k, HOUR, 100, 40);
      expect(fits).toMatchObject({ allowed: true, count: 100, remaining: 0 });
    });

    it("adjustHit settles an estimate to the actual cost in the same bucket", async () => {
      const store = await open();
      const k = key("adjust");
      const first = await store.hit(k, HOUR, 100, 80);
      await store.adjustHit(k, HOUR, first.slot, -70);
      expect(await store.hit(k, HOUR, 100, 90)).toMatchObject({ allowed: true, count: 100 });
      await store.adjustHit(k, HOUR, first.slot, -500);
      expect((await store.hit(k, HOUR, 100, 100)).allowed).toBe(true);
    });

    it("reserve adds only while the total stays within the limit", async () => {
      const store = await open();
      const k = key("reserve");
      expect(await store.reserve(k, 400, 1000, HOUR)).toEqual({ allowed: true, total: 400, remaining: 600 });
      expect(await store.reserve(k, 700, 1000, HOUR)).toEqual({ allowed: false, total: 400, remaining: 600 });
      expect(await store.reserve(k, 600, 1000, HOUR)).toEqual({ allowed: true, total: 1000, remaining: 0 });
    });

    it("add adjusts a counter by a signed delta and never below zero", async () => {
      const store = await open();
      const k = key("add");
      expect(await store.add(k, 250, HOUR)).toBe(250);
      expect(await store.add(k, -100, HOUR)).toBe(150);
      expect(await store.add(k, -1000, HOUR)).toBe(0);
      expect((await store.reserve(k, 10, 10, HOUR)).allowed).toBe(true);
    });

    it("get, set and delete values", async () => {
      const store = await open();
      const k = key("value");
      expect(await store.get(k)).toBeUndefined();
      await store.set(k, "one");
      expect(await store.get(k)).toBe("one");
      await store.set(k, "two", HOUR);
      expect(await store.get(k)).toBe("two");
      await store.delete(k);
      expect(await store.get(k)).toBeUndefined();
    });

    it("acquire hands out at most limit leases and release frees one", async () => {
      const store = await open();
      const k = key("lease");
      const a = await store.acquire(k, 2, HOUR);
      const b = await store.acquire(k, 2, HOUR);
      const c = await store.acquire(k, 2, HOUR);
      expect([a.acquired, b.acquired, c.acquired]).toEqual([true, true, false]);
      expect(c.count).toBe(2);
      await store.release(k, a.id);
      expect((await store.acquire(k, 2, HOUR)).acquired).toBe(true);
    });

    it("keeps keys apart", async () => {
      const store = await open();
      const [k1, k2] = [key("apart"), key("apart")];
      expect((await store.hit(k1, HOUR, 1)).allowed).toBe(true);
      expect((await store.hit(k2, HOUR, 1)).allowed).toBe(true);
      expect((await store.hit(k1, HOUR, 1)).allowed).toBe(false);
    });

    it("reports itself healthy", async () => {
      const store = await open();
      expect(store.health()).toBe("ok");
      expect(store.status()).toMatchObject({ health: "ok" });
    });
  });
}
