import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RequestRecord } from "../../core/index.js";
import { readWholeRecords, waitForRecords } from "../support/records.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";

const KEY_A = "sk-test-tenant-a";
const KEY_A2 = "sk-test-tenant-a-second";
const KEY_B = "sk-test-tenant-b";
const KEY_ADMIN = "sk-test-admin";

const chatRoute = (prefix = "") => ({ path: `${prefix}/v1/chat/completions`, format: "openai-chat" });
const usageRoute = (prefix = "") => ({ method: "GET", path: `${prefix}/admin/usage`, format: "openai-chat", endpoint: "usage" });
const backends = {
  alpha: { use: "provider-mock", models: ["model-a"], config: { reply: "alpha speaking" } },
  beta: { use: "provider-mock", models: ["model-b"], config: { reply: "beta says a little more than alpha does", usage: { inputTokens: 40, outputTokens: 9 } } },
};

async function adminKeys() {
  const file = (await keysFile([
    { key: KEY_A, id: "a1", tenant: "tenant-a" },
    { key: KEY_A2, id: "a2", tenant: "tenant-a" },
    { key: KEY_B, id: "b1", tenant: "tenant-b" },
    { key: KEY_ADMIN, id: "ops", tenant: "ops" },
  ])) as { keys: Array<Record<string, unknown>> };
  file.keys[3]!.role = "admin";
  return file;
}

describe("usage API through a gateway with record-jsonl", () => {
  let gw: TestGateway;
  let fromIso: string;

  const chat = (key: string, model: string, stream = false, prefix = "") =>
    fetch(`${gw.url}${prefix}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, stream, messages: [{ role: "user", content: `hello ${model} from a test` }] }),
    }).then(async (r) => ({ status: r.status, text: await r.text() }));

  const usage = (query: string, key = KEY_ADMIN, prefix = "") =>
    fetch(`${gw.url}${prefix}/admin/usage${query}`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  beforeAll(async () => {
    gw = await startGateway({
      "keys.json": await adminKeys(),
      "pricing.json": { updated: "2026-01-01", currency: "USD", models: { "model-a": { input: 2, cachedRead: 1, output: 8 } } },
      "gw.pipeline.json": {
        id: "gw",
        routes: [chatRoute(), usageRoute()],
        backends,
        steps: [
          { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } },
          { use: "usage-api" },
          { use: "stream-sse" },
          { use: "cost", config: { pricingFile: "./pricing.json" } },
          // batchSize 4 with a long interval: at query time 8 of the 9 records are on disk, 1 still in memory.
          { use: "record-jsonl", config: { path: "./data/records.jsonl", batchSize: 4, flushIntervalMs: 600_000 } },
        ],
      },
      "bare.pipeline.json": { id: "bare", routes: [chatRoute("/bare"), usageRoute("/bare")], backends, steps: [{ use: "usage-api" }, { use: "record-jsonl", config: { path: "./data/bare.jsonl" } }] },
      "nosink.pipeline.json": {
        id: "nosink",
        routes: [usageRoute("/nosink")],
        steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } }, { use: "usage-api" }],
      },
    });
    fromIso = new Date(Date.now() - 60_000).toISOString();

    const sent = [
      await chat(KEY_A, "model-a"),
      await chat(KEY_A, "model-a", true),
      await chat(KEY_A2, "model-a"),
      await chat(KEY_A2, "model-b", true),
      await chat(KEY_B, "model-b"),
      await chat(KEY_B, "model-b"),
      await chat(KEY_B, "model-a", true),
    ];
    expect(sent.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    // Refused ones are records too: a wrong key (no tenant) and an admin key on a model route.
    expect((await chat("sk-wrong", "model-a")).status).toBe(401);
    expect((await chat(KEY_ADMIN, "model-a")).status).toBe(403);
    await gw.server.recordsWritten();
  });
  afterAll(() => gw?.close());

  /** The same sums, computed here from the records the sink wrote (read after the gateway flushed). */
  function expectedRows(records: RequestRecord[], key: (r: RequestRecord) => string | null) {
    const rows = new Map<string | null, any>();
    for (const r of records) {
      const k = key(r);
      const row = rows.get(k) ?? { key: k, requests: 0, input_tokens: 0, output_tokens: 0, cached_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_usd: 0, unknown_cost_requests: 0, cache_hits: 0, saved_cost_usd: 0 };
      row.requests++;
      row.input_tokens += r.usage?.inputTokens ?? 0;
      row.output_tokens += r.usage?.outputTokens ?? 0;
      row.cached_read_tokens += r.usage?.cachedReadTokens ?? 0;
      row.cache_write_tokens += r.usage?.cacheWriteTokens ?? 0;
      row.reasoning_tokens += r.usage?.reasoningTokens ?? 0;
      if (r.costUsd !== null) row.cost_usd += r.costUsd;
      else if (r.usage) row.unknown_cost_requests++;
      if (r.cache === "hit") row.cache_hits++;
      row.saved_cost_usd += r.savedCostUsd ?? 0;
      rows.set(k, row);
    }
    return [...rows.values()];
  }

  const groupings: Array<[string, (r: RequestRecord) => string | null]> = [
    ["tenant", (r) => r.tenant ?? null],
    ["key", (r) => r.keyId ?? null],
    ["model", (r) => r.model ?? null],
    ["backend", (r) => r.backend ?? null],
    ["day", (r) => r.time.slice(0, 10)],
  ];

  it("sums each grouping exactly as the stored records add up, memory and file alike", async () => {
    const to = new Date(Date.now() + 60_000).toISOString();
    // Two full batches reach the file; the ninth record waits in memory.
    const written = await waitForRecords(join(gw.dir, "data/records.jsonl"), (rs) => rs.length >= 8, { what: "two full batches (8 records)" });
    expect(written).toHaveLength(8);
    const answers = new Map<string, any>();
    for (const [groupBy] of groupings) {
      const { status, body } = await usage(`?from=${fromIso}&to=${to}&group_by=${groupBy}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ from: fromIso, to, group_by: groupBy });
      answers.set(groupBy, body);
    }
    // Admin calls write no record; everything else is flushed at close, then read back.
    await gw.close();
    const { records, partial } = await readWholeRecords(join(gw.dir, "data/records.jsonl"));
    expect(partial).toBe("");
    expect(records).toHaveLength(9);
    expect(records.some((r) => r.route === "/admin/usage")).toBe(false);

    for (const [groupBy, key] of groupings) {
      const rows = answers.get(groupBy).rows as any[];
      const expected = expectedRows(records, key);
      expect(rows.map((r) => r.key).sort()).toEqual(expected.map((r) => r.key).sort());
      for (const want of expected) {
        const got = rows.find((r) => r.key === want.key)!;
        expect({ ...got, cost_usd: 0 }).toEqual({ ...want, cost_usd: 0 });
        expect(got.cost_usd).toBeCloseTo(want.cost_usd, 9);
      }
    }

    const byTenant = Object.fromEntries((answers.get("tenant").rows as any[]).map((r) => [r.key, r]));
    expect(byTenant["tenant-a"].requests).toBe(4);
    expect(byTenant["tenant-b"].requests).toBe(3);
    expect(byTenant.ops.requests).toBe(1); // its refused model request
    expect(byTenant["tenant-b"].unknown_cost_requests).toBe(2); // model-b has no price
    expect(byTenant["tenant-b"].cost_usd).toBeGreaterThan(0);
    expect(answers.get("tenant").rows.at(-1).key).toBeNull(); // the wrong key, last
    const byModel = Object.fromEntries((answers.get("model").rows as any[]).map((r) => [r.key, r]));
    expect(byModel["model-b"]).toMatchObject({ requests: 3, input_tokens: 120, output_tokens: 27, cost_usd: 0, unknown_cost_requests: 3 });
  });
});

describe("usage API access and query checks", () => {
  let gw: TestGateway;
  const get = (path: string, key?: string) =>
    fetch(`${gw.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  beforeAll(async () => {
    gw = await startGateway({
      "keys.json": await adminKeys(),
      "gw.pipeline.json": {
        id: "gw",
        routes: [chatRoute(), usageRoute()],
        backends,
        steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } }, { use: "usage-api" }, { use: "record-jsonl", config: { path: "./data/records.jsonl" } }],
      },
      "bare.pipeline.json": { id: "bare", routes: [usageRoute("/bare")], steps: [{ use: "usage-api" }, { use: "record-jsonl", config: { path: "./data/bare.jsonl" } }] },
      "nosink.pipeline.json": { id: "nosink", routes: [usageRoute("/nosink")], steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } }, { use: "usage-api" }] },
    });
  });
  afterAll(() => gw?.close());

  it("answers a client key 403 admin_key_required and no key 401, in the route's format", async () => {
    const client = await get("/admin/usage?from=2026-01-01", KEY_A);
    expect(client.status).toBe(403);
    expect(client.body.error).toMatchObject({ code: "admin_key_required", message: "this route needs an admin API key" });
    const anonymous = await get("/admin/usage?from=2026-01-01");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("missing_api_key");
  });

  it("answers an admin key 403 client_key_required on a model route", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY_ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "model-a", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe("client_key_required");
  });

  it.each([
    ["", "from", "from is required"],
    ["?from=last-week", "from", 'from must be an ISO 8601 time such as 2026-05-01 or 2026-05-01T00:00:00Z (with Z or an offset), not "last-week"'],
    ["?from=2026-01-01&to=2026-01-32", "to", "to must be an ISO 8601 time"],
    ["?from=2026-02-01&to=2026-01-01", "to", "must be after from"],
    ["?from=2026-01-01&group_by=region", "group_by", 'group_by must be one of tenant, key, model, backend, day, not "region"'],
    ["?from=2026-01-01&group_by=tenant&group_by=day", "group_by", "group_by is given 2 times"],
    ["?from=2026-01-01&tenant=acme", "tenant", 'unknown query parameter "tenant"'],
  ])("answers the query %j with a 400 naming %s", async (query, param, message) => {
    const { status, body } = await get(`/admin/usage${query}`, KEY_ADMIN);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_usage_query", param });
    expect(body.error.message).toContain(message);
  });

  it("defaults to up to now, grouped by tenant", async () => {
    const before = Date.now();
    const { status, body } = await get("/admin/usage?from=2026-01-01T00:00:00Z", KEY_ADMIN);
    expect(status).toBe(200);
    expect(body.group_by).toBe("tenant");
    expect(Date.parse(body.to)).toBeGreaterThanOrEqual(before);
    // Only the admin key's refused model request above: the many admin calls are not records.
    expect(body.rows).toEqual([expect.objectContaining({ key: "ops", requests: 1 })]);
  });

  it("refuses an admin route to everyone when the pipeline has no auth step (fails closed)", async () => {
    const { status, body } = await get("/bare/admin/usage?from=2026-01-01", KEY_ADMIN);
    expect(status).toBe(403);
    expect(body.error.code).toBe("admin_key_required");
  });

  it("answers 501 usage_unavailable when no step of the pipeline answers usage queries", async () => {
    const { status, body } = await get("/nosink/admin/usage?from=2026-01-01", KEY_ADMIN);
    expect(status).toBe(501);
    expect(body.error).toMatchObject({ code: "usage_unavailable", message: "pipeline nosink has no record sink that answers usage queries (record-jsonl, record-postgres)" });
  });
});
