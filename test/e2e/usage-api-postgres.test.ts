/** The usage API through a gateway whose record sink is record-postgres, against a real PostgreSQL. */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { skipWithoutPostgres, startPostgresServer, type PostgresServer } from "../support/postgres-server.js";

const KEY_A = "sk-test-tenant-a";
const KEY_B = "sk-test-tenant-b";
const KEY_ADMIN = "sk-test-admin";
const TABLE = "gateway_requests";

interface StoredRow {
  tenant: string | null;
  key_id: string | null;
  model: string | null;
  backend: string | null;
  day: string;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_read_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  cost_usd: string | null;
  cache: string | null;
  saved_cost_usd: string | null;
}

describe.skipIf(skipWithoutPostgres())("usage API through a gateway with record-postgres", () => {
  let server: PostgresServer;
  let gw: TestGateway;
  let fromIso: string;

  const chat = (key: string, model: string, stream = false) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, stream, messages: [{ role: "user", content: `hello ${model}` }] }),
    }).then(async (r) => ({ status: r.status, text: await r.text() }));

  const usage = (query: string) =>
    fetch(`${gw.url}/admin/usage${query}`, { headers: { authorization: `Bearer ${KEY_ADMIN}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  async function stored(): Promise<StoredRow[]> {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const sql = `SELECT tenant, key_id, model, backend, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, input_tokens, output_tokens,
        cached_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, cache, saved_cost_usd FROM ${TABLE}`;
      return (await client.query<StoredRow>(sql)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    server = await startPostgresServer();
    const keys = (await keysFile([
      { key: KEY_A, id: "a1", tenant: "tenant-a" },
      { key: KEY_B, id: "b1", tenant: "tenant-b" },
      { key: KEY_ADMIN, id: "ops", tenant: "ops" },
    ])) as { keys: Array<Record<string, unknown>> };
    keys.keys[2]!.role = "admin";
    gw = await startGateway({
      "keys.json": keys,
      "pricing.json": { updated: "2026-01-01", currency: "USD", models: { "model-a": { input: 2, cachedRead: 1, output: 8 } } },
      "gw.pipeline.json": {
        id: "gw",
        routes: [
          { path: "/v1/chat/completions", format: "openai-chat" },
          { method: "GET", path: "/admin/usage", format: "openai-chat", endpoint: "usage" },
        ],
        backends: {
          alpha: { use: "provider-mock", models: ["model-a"], config: { reply: "alpha speaking" } },
          beta: { use: "provider-mock", models: ["model-b"], config: { reply: "beta says more", usage: { inputTokens: 40, outputTokens: 9 } } },
        },
        steps: [
          { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } },
          { use: "usage-api" },
          { use: "stream-sse" },
          { use: "cost", config: { pricingFile: "./pricing.json" } },
          // A long interval and big batches: every record still waits in memory when the usage query comes.
          { use: "record-postgres", config: { connectionString: server.url, table: TABLE, flushIntervalMs: 60_000, retryIntervalMs: 60_000, connectTimeoutMs: 1000 } },
        ],
      },
    });
    fromIso = new Date(Date.now() - 60_000).toISOString();
    const sent = [
      await chat(KEY_A, "model-a"),
      await chat(KEY_A, "model-a", true),
      await chat(KEY_A, "model-b"),
      await chat(KEY_B, "model-b", true),
      await chat(KEY_B, "model-a"),
    ];
    expect(sent.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await chat("sk-wrong", "model-a")).status).toBe(401); // a record with no tenant
    await gw.server.recordsWritten();
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await server?.stop();
  }, 60_000);

  it("answers GET /admin/usage from Postgres, records still batched included, with the sums the stored rows add up to", async () => {
    expect(await stored()).toHaveLength(0);
    const to = new Date(Date.now() + 60_000).toISOString();
    const answers = new Map<string, any>();
    for (const groupBy of ["tenant", "key", "model", "backend", "day"]) {
      const { status, body } = await usage(`?from=${fromIso}&to=${to}&group_by=${groupBy}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ from: fromIso, to, group_by: groupBy });
      answers.set(groupBy, body);
    }
    const rows = await stored();
    expect(rows).toHaveLength(6); // the admin calls are not records

    const column: Record<string, (r: StoredRow) => string | null> = { tenant: (r) => r.tenant, key: (r) => r.key_id, model: (r) => r.model, backend: (r) => r.backend, day: (r) => r.day };
    for (const [groupBy, keyOf] of Object.entries(column)) {
      const want = new Map<string | null, any>();
      for (const r of rows) {
        const k = keyOf(r);
        const w = want.get(k) ?? { key: k, requests: 0, input_tokens: 0, output_tokens: 0, cached_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_usd: 0, unknown_cost_requests: 0, cache_hits: 0, saved_cost_usd: 0 };
        w.requests++;
        w.input_tokens += r.input_tokens ?? 0;
        w.output_tokens += r.output_tokens ?? 0;
        w.cached_read_tokens += r.cached_read_tokens ?? 0;
        w.cache_write_tokens += r.cache_write_tokens ?? 0;
        w.reasoning_tokens += r.reasoning_tokens ?? 0;
        if (r.cost_usd !== null) w.cost_usd += Number(r.cost_usd);
        else if (r.input_tokens !== null) w.unknown_cost_requests++;
        if (r.cache === "hit") w.cache_hits++;
        w.saved_cost_usd += Number(r.saved_cost_usd ?? 0);
        want.set(k, w);
      }
      const got = answers.get(groupBy).rows as any[];
      expect(got.map((r) => r.key)).toEqual([...want.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : 1)));
      for (const row of got) {
        const w = want.get(row.key);
        expect({ ...row, cost_usd: 0 }).toEqual({ ...w, cost_usd: 0 });
        expect(row.cost_usd).toBeCloseTo(w.cost_usd, 9);
      }
    }

    const byTenant = Object.fromEntries((answers.get("tenant").rows as any[]).map((r) => [r.key, r]));
    expect(byTenant["tenant-a"].requests).toBe(3);
    expect(byTenant["tenant-b"]).toMatchObject({ requests: 2, unknown_cost_requests: 1 });
    expect(byTenant["tenant-b"].cost_usd).toBeGreaterThan(0);
    expect(answers.get("tenant").rows.at(-1)).toMatchObject({ key: null, requests: 1, input_tokens: 0, unknown_cost_requests: 0 });
    const byModel = Object.fromEntries((answers.get("model").rows as any[]).map((r) => [r.key, r]));
    expect(byModel["model-b"]).toMatchObject({ requests: 2, input_tokens: 80, output_tokens: 18, cost_usd: 0, unknown_cost_requests: 2 });
  });

  it("answers 503 usage_store_unavailable while Postgres is down", async () => {
    await server.stopServer("fast");
    try {
      const { status, body } = await usage(`?from=${fromIso}`);
      expect(status).toBe(503);
      expect(body.error.code).toBe("usage_store_unavailable");
      expect(body.error.message).toContain("spooled locally");
    } finally {
      await server.start();
    }
    const { status, body } = await usage(`?from=${fromIso}`);
    expect(status).toBe(200);
    expect(body.rows.reduce((n: number, r: any) => n + r.requests, 0)).toBe(6);
  }, 60_000);
});
