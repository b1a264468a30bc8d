import { describe, expect, it } from "vitest";
import type { Attempt, Backend, Exchange } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import selectSticky from "../../../plugins/select-sticky/index.js";

function fleet(...ids: string[]): { backends: Map<string, Backend>; attempts: Attempt[] } {
  const backends = new Map(ids.map((id) => [id, createTestBackend(id)]));
  return { backends, attempts: ids.map((id) => ({ backend: backends.get(id)!, model: "m" })) };
}

async function sticky(config: unknown, ids = ["a", "b", "c", "d", "e"]) {
  const { backends, attempts } = fleet(...ids);
  const { hooks } = await createTestStep(selectSticky, config, { backends });
  const plan = async (exchange: Exchange, list: Attempt[] = attempts) => (await hooks.plan.promise(list, exchange)).map((x) => x.backend.id);
  return { plan, attempts };
}

const withSession = (sid: string) => createTestExchange({ headers: { "X-Session-Id": sid } });

describe("select-sticky", () => {
  it("sends every request with the same key to the same backend, with the same fallbacks", async () => {
    const { plan } = await sticky({ key: "header:x-session-id" });
    const first = await plan(withSession("session-42"));
    for (let i = 0; i < 50; i++) expect(await plan(withSession("session-42"))).toEqual(first);
    expect([...first].sort()).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("spreads 10k keys evenly and moves only the removed backend's ~1/N share when one leaves", async () => {
    const { plan, attempts } = await sticky({ key: "header:x-session-id" });
    const n = 10_000;
    const before: string[] = [];
    const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0, e: 0 };
    for (let i = 0; i < n; i++) {
      const id = (await plan(withSession(`session-${i}`)))[0]!;
      before.push(id);
      counts[id]!++;
    }
    const withoutC = attempts.filter((x) => x.backend.id !== "c");
    let moved = 0;
    for (let i = 0; i < n; i++) {
      const after = (await plan(withSession(`session-${i}`), withoutC))[0]!;
      if (after !== before[i]) {
        moved++;
        // Only keys that were on the removed backend move; all others stay where they were.
        expect(before[i]).toBe("c");
      }
    }
    console.log(`select-sticky 10k keys over 5 backends: ${JSON.stringify(counts)}; removing c moved ${moved} keys (${((moved / n) * 100).toFixed(2)}%, ideal 20%)`);
    expect(moved).toBe(counts.c);
    expect(Math.abs(moved / n - 1 / 5)).toBeLessThan(0.03);
    for (const count of Object.values(counts)) expect(Math.abs(count / n - 1 / 5)).toBeLessThan(0.03);
  });

  it("moves a key to its own second choice when its backend leaves", async () => {
    const { plan, attempts } = await sticky({ key: "header:x-session-id" });
    const order = await plan(withSession("session-7"));
    const without = attempts.filter((x) => x.backend.id !== order[0]);
    expect(await plan(withSession("session-7"), without)).toEqual(order.slice(1));
  });

  it("reads the key from the tenant, a cookie or a body field", async () => {
    const byTenant = await sticky({ key: "tenant" });
    const byCookie = await sticky({ key: "cookie:sid" });
    const byBody = await sticky({ key: "body:/metadata/user~1id" });
    const reference = await sticky({ key: "header:x-session-id" });
    const expected = await reference.plan(withSession("u-123"));
    expect(await byTenant.plan(createTestExchange({ tenant: "u-123" }))).toEqual(expected);
    expect(await byCookie.plan(createTestExchange({ headers: { cookie: 'theme=dark; sid="u-123"; lang=en' } }))).toEqual(expected);
    expect(await byCookie.plan(createTestExchange({ headers: { cookie: "sid=u-123" } }))).toEqual(expected);
    expect(await byBody.plan(createTestExchange({ body: { model: "m", metadata: { "user/id": "u-123" } } }))).toEqual(expected);
    const numeric = await byBody.plan(createTestExchange({ body: { model: "m", metadata: { "user/id": 123 } } }));
    expect(numeric).toEqual(await reference.plan(withSession("123")));
  });

  it("does not take a cookie whose name merely ends or starts with the configured one", async () => {
    const { plan } = await sticky({ key: "cookie:sid", missingKey: "reject" });
    await expect(plan(createTestExchange({ headers: { cookie: "xsid=1; sidx=2" } }))).rejects.toMatchObject({ status: 400 });
  });

  it("spreads keyless requests round-robin by default", async () => {
    const { plan } = await sticky({ key: "header:x-session-id" }, ["a", "b", "c"]);
    const orders: string[] = [];
    for (let i = 0; i < 4; i++) orders.push((await plan(createTestExchange())).join(""));
    expect(orders).toEqual(["abc", "bac", "cab", "abc"]);
  });

  it("keeps the plan's order for keyless requests with missingKey first", async () => {
    const { plan } = await sticky({ key: "header:x-session-id", missingKey: "first" }, ["a", "b", "c"]);
    for (let i = 0; i < 3; i++) expect(await plan(createTestExchange())).toEqual(["a", "b", "c"]);
  });

  it("answers 400 naming the key for keyless requests with missingKey reject", async () => {
    const { plan } = await sticky({ key: "header:X-Session-Id", missingKey: "reject" });
    await expect(plan(createTestExchange({ headers: { "x-session-id": "" } }))).rejects.toMatchObject({
      status: 400,
      type: "invalid_request",
      code: "missing_affinity_key",
      param: "x-session-id",
      message: expect.stringContaining('header "x-session-id"'),
    });
    const byBody = await sticky({ key: "body:/user", missingKey: "reject" });
    await expect(byBody.plan(createTestExchange({ body: { model: "m", user: { id: 1 } } }))).rejects.toMatchObject({ status: 400, param: "/user" });
  });

  it("rejects a key source it does not know and a malformed body pointer", async () => {
    await expect(sticky({ key: "query:sid" })).rejects.toThrow(/key/);
    await expect(sticky({ key: "body:/a~2b" })).rejects.toMatchObject({ code: "invalid_config", message: expect.stringContaining("~") });
  });
});
