/** record-postgres answering the usage API against a real PostgreSQL: the sums, the range, and an outage. */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type RequestRecord } from "../../../core/index.js";
import { USAGE_GROUPS, usageQueries, type UsageGroupBy, type UsageQuery, type UsageRow } from "../../../lib/usage/report.js";
import { silentLogger } from "../../../lib/log.js";
import { createTestExchange, createTestStep } from "../../../testkit/index.js";
import recordPostgres, { PostgresRecordSink } from "../../../plugins/record-postgres/index.js";
import { skipWithoutPostgres, startPostgresServer, type PostgresServer } from "../../support/postgres-server.js";

let server: PostgresServer;
let dir: string;

beforeAll(async () => {
  server = await startPostgresServer();
  dir = await mkdtemp(join(tmpdir(), "switchyard-record-pg-usage-"));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

async function sql<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

function sink(table: string, overrides: Partial<ConstructorParameters<typeof PostgresRecordSink>[0]> = {}) {
  return new PostgresRecordSink({
    connectionString: server.url,
    table,
    batchSize: 4,
    // Only full batches are written on their own: the rest waits in memory until a query or close().
    flushIntervalMs: 600_000,
    retryIntervalMs: 600_000,
    spoolPath: join(dir, `${table}-${randomUUID()}.spool.jsonl`),
    spoolMaxBytes: 16 * 1024 * 1024,
    connectTimeoutMs: 1000,
    poolSize: 2,
    log: silentLogger,
    ...overrides,
  });
}

const DAY1 = Date.UTC(2026, 2, 1);
const DAY2 = Date.UTC(2026, 2, 2);
const FROM = DAY1 + 10 * 3600_000;
const TO = DAY2 + 10 * 3600_000;

function record(atMs: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: randomUUID(),
    time: new Date(atMs).toISOString(),
    pipeline: "chat",
    route: "/v1/chat/completions",
    format: "openai-chat",
    tenant: "acme",
    keyId: "acme-1",
    backend: "openai",
    model: "gpt-4o",
    upstreamModel: "gpt-4o-2024-08-06",
    stream: false,
    status: 200,
    latencyMs: 10,
    usage: { inputTokens: 100, outputTokens: 20 },
    costUsd: 0.0012,
    attempts: [{ backend: "openai", model: "gpt-4o", status: 200, latencyMs: 9 }],
    ...extra,
  };
}

/** Records around the range [FROM, TO): on both edges, across the UTC midnight, with and without keys, usage and prices. */
function fixture(): RequestRecord[] {
  const noAuth = { tenant: undefined, keyId: undefined, backend: undefined, model: undefined, usage: undefined, costUsd: null, status: 401, attempts: [] };
  return [
    record(FROM - 1, { tenant: "before" }), // one ms too early
    record(FROM), // exactly at from: counted
    record(FROM + 1000, { tenant: "globex", keyId: "globex-1", model: "claude-sonnet", backend: "anthropic", usage: { inputTokens: 300, outputTokens: 40, cachedReadTokens: 200, cacheWriteTokens: 50 }, costUsd: 0.0042 }),
    record(DAY2 - 1, { keyId: "acme-2", usage: { inputTokens: 7, outputTokens: 900, reasoningTokens: 850 }, costUsd: 0.0105 }), // last ms of day 1
    record(DAY2, { keyId: "acme-2", model: "mystery-model", costUsd: null }), // usage without a price
    record(DAY2 + 5, noAuth), // refused before auth: no tenant, key, model, backend or usage
    record(DAY2 + 10, { tenant: "globex", keyId: "globex-1", backend: undefined, usage: undefined, costUsd: null, status: 502 }), // failed before any backend answered
    record(DAY2 + 20, { model: "mystery-model", backend: "local", usage: { inputTokens: 1, outputTokens: 1 }, costUsd: null }),
    record(DAY2 + 30, { tenant: "globex", keyId: "globex-2", costUsd: 0 }), // a known price of zero is not unknown
    record(TO - 1), // last counted ms
    record(TO, { tenant: "after" }), // exactly at to: not counted
  ];
}

const keyOf: Record<UsageGroupBy, (r: RequestRecord) => string | null> = {
  tenant: (r) => r.tenant ?? null,
  key: (r) => r.keyId ?? null,
  model: (r) => r.model ?? null,
  backend: (r) => r.backend ?? null,
  day: (r) => r.time.slice(0, 10),
};

/** The sums UsageQuery and UsageRow define, computed here straight from the records. */
function expectedRows(records: readonly RequestRecord[], query: UsageQuery): UsageRow[] {
  const rows = new Map<string | null, UsageRow>();
  for (const r of records) {
    const at = Date.parse(r.time);
    if (at < query.fromMs || at >= query.toMs) continue;
    const key = keyOf[query.groupBy](r);
    const row = rows.get(key) ?? { key, requests: 0, inputTokens: 0, outputTokens: 0, cachedReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0, unknownCostRequests: 0, cacheHits: 0, savedCostUsd: 0 };
    row.requests++;
    row.inputTokens += r.usage?.inputTokens ?? 0;
    row.outputTokens += r.usage?.outputTokens ?? 0;
    row.cachedReadTokens += r.usage?.cachedReadTokens ?? 0;
    row.cacheWriteTokens += r.usage?.cacheWriteTokens ?? 0;
    row.reasoningTokens += r.usage?.reasoningTokens ?? 0;
    if (r.costUsd !== null) row.costUsd += r.costUsd;
    else if (r.usage) row.unknownCostRequests++;
    if (r.cache === "hit") row.cacheHits++;
    row.savedCostUsd += r.savedCostUsd ?? 0;
    rows.set(key, row);
  }
  return [...rows.values()];
}

const byKey = (rows: readonly UsageRow[]) => [...rows].sort((a, b) => String(a.key).localeCompare(String(b.key)));

function expectSameRows(got: readonly UsageRow[], want: readonly UsageRow[]): void {
  expect(byKey(got).map((r) => ({ ...r, costUsd: 0 }))).toEqual(byKey(want).map((r) => ({ ...r, costUsd: 0 })));
  byKey(got).forEach((row, i) => expect(row.costUsd).toBeCloseTo(byKey(want)[i]!.costUsd, 12));
}

const rowCount = async (table: string) => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

describe.skipIf(skipWithoutPostgres())("record-postgres usage queries", () => {
  it.each(USAGE_GROUPS)("sums group_by=%s exactly as the records in [from, to) add up, the still-batched ones included", async (groupBy) => {
    const table = `usage_${groupBy}`;
    const records = fixture();
    const s = sink(table);
    await s.start();
    // Two full batches of 4 are written on their own; the last 3 records still wait in memory.
    for (const r of records.slice(0, 8)) s.add(r);
    await expect.poll(() => rowCount(table)).toBe(8);
    for (const r of records.slice(8)) s.add(r);
    expect(await rowCount(table)).toBe(8);
    const query = { fromMs: FROM, toMs: TO, groupBy };
    const report = await s.queryUsage(query);
    expect(await rowCount(table)).toBe(11);
    await s.close();

    const want = expectedRows(records, query);
    expectSameRows(report.rows, want);
    for (const row of report.rows) {
      for (const [field, value] of Object.entries(row)) if (field !== "key") expect(typeof value, `${row.key}.${field}`).toBe("number");
    }
    expect(report.rows.reduce((n, r) => n + r.requests, 0)).toBe(9); // the one before from and the one at to are out
  });

  it("groups by the UTC day, splits at midnight, and gives records without a value the key null", async () => {
    const s = sink("usage_keys");
    await s.start();
    for (const r of fixture()) s.add(r);
    const days = await s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "day" });
    expect(byKey(days.rows).map((r) => [r.key, r.requests])).toEqual([["2026-03-01", 3], ["2026-03-02", 6]]);
    const backends = Object.fromEntries((await s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "backend" })).rows.map((r) => [r.key, r]));
    expect(backends.null).toMatchObject({ requests: 2, inputTokens: 0, outputTokens: 0, costUsd: 0, unknownCostRequests: 0 });
    const tenants = Object.fromEntries((await s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "tenant" })).rows.map((r) => [r.key, r]));
    expect(tenants.null).toMatchObject({ key: null, requests: 1 });
    expect(Object.keys(tenants).sort()).toEqual(["acme", "globex", "null"]);
    await s.close();
  });

  it("counts records with usage but no price as unknown cost, not those without usage or with a zero price", async () => {
    const s = sink("usage_unknown_cost");
    await s.start();
    for (const r of fixture()) s.add(r);
    const models = Object.fromEntries((await s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "model" })).rows.map((r) => [r.key, r]));
    expect(models["mystery-model"]).toMatchObject({ requests: 2, inputTokens: 101, outputTokens: 21, costUsd: 0, unknownCostRequests: 2 });
    // gpt-4o: the 502 without usage and the zero-priced one are not unknown.
    expect(models["gpt-4o"]).toMatchObject({ requests: 5, unknownCostRequests: 0 });
    expect(models["gpt-4o"]!.costUsd).toBeCloseTo(0.0012 * 2 + 0.0105, 12);
    await s.close();
  });

  it("counts a record in exactly one of two back-to-back ranges", async () => {
    const s = sink("usage_halfopen");
    await s.start();
    const records = fixture();
    for (const r of records) s.add(r);
    const split = DAY2;
    const first = await s.queryUsage({ fromMs: FROM, toMs: split, groupBy: "tenant" });
    const second = await s.queryUsage({ fromMs: split, toMs: TO, groupBy: "tenant" });
    const whole = await s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "tenant" });
    await s.close();
    const total = (rows: readonly UsageRow[]) => rows.reduce((n, r) => n + r.requests, 0);
    expect(total(first.rows)).toBe(3); // FROM, FROM+1s, DAY2-1
    expect(total(second.rows)).toBe(6); // DAY2 .. TO-1
    expect(total(first.rows) + total(second.rows)).toBe(total(whole.rows));
    expectSameRows(second.rows, expectedRows(records, { fromMs: split, toMs: TO, groupBy: "tenant" }));
  });

  it("answers 503 usage_store_unavailable while Postgres is down, and counts the spooled records once it is back", async () => {
    const table = "usage_outage";
    const s = sink(table, { batchSize: 100 });
    await s.start();
    s.add(record(FROM + 1));
    await s.flush();
    await server.stopServer("fast");
    let refused: unknown;
    try {
      for (let i = 0; i < 5; i++) s.add(record(FROM + 100 + i));
      refused = await s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "tenant" }).catch((err: unknown) => err);
    } finally {
      await server.start();
    }
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ status: 503, type: "unavailable", code: "usage_store_unavailable", source: "record-postgres" });
    expect((refused as Error).message).toMatch(/spooled locally.*not be counted/);
    expect((refused as Error).message).not.toContain(String(server.port));
    expect(s.stats.spooled).toBe(5);

    // Back up: the query replays the spool first, so the answer has all six.
    const report = await s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "tenant" });
    expect(report.rows).toEqual([expect.objectContaining({ key: "acme", requests: 6 })]);
    expect(await rowCount(table)).toBe(6);
    await s.close();
  }, 60_000);

  it("answers 503 when Postgres was never reachable", async () => {
    const s = sink("usage_never", { connectionString: "postgres://postgres@127.0.0.1:1/none", connectTimeoutMs: 200 });
    await s.start();
    s.add(record(FROM));
    await expect(s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "day" })).rejects.toMatchObject({ status: 503, code: "usage_store_unavailable" });
    await s.close();
  });

  it("answers 500 usage_query_failed when the table is not the sink's shape", async () => {
    // Enough for the migration's indexes (time, tenant), not for the sums.
    await sql("CREATE TABLE usage_foreign (id text PRIMARY KEY, time timestamptz NOT NULL, tenant text)");
    const s = sink("usage_foreign");
    await s.start();
    const err = await s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "tenant" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, type: "internal", code: "usage_query_failed" });
    expect((err as Error).message).toContain("42703"); // undefined_column
    await s.close();
  });

  it("stores a cache step's verdict and saved cost, and sums hits and savings", async () => {
    const s = sink("usage_cache");
    await s.start();
    s.add(record(FROM, { tenant: "cached", cache: "miss" }));
    s.add(record(FROM + 1, { tenant: "cached", backend: "cache", cache: "hit", costUsd: 0, savedCostUsd: 0.0012 }));
    s.add(record(FROM + 2, { tenant: "cached", backend: "cache", cache: "hit", costUsd: 0, savedCostUsd: 0.0012 }));
    const report = await s.queryUsage({ fromMs: FROM, toMs: TO, groupBy: "tenant" });
    await s.close();
    expect(report.rows).toEqual([expect.objectContaining({ key: "cached", requests: 3, costUsd: 0.0012, cacheHits: 2, savedCostUsd: 0.0024 })]);
  });

  it("answers the queryUsage hook from the step", async () => {
    const step = await createTestStep(recordPostgres, { connectionString: server.url, table: "usage_hook", spoolPath: join(dir, "hook.spool.jsonl"), flushIntervalMs: 60_000 });
    const exchange = createTestExchange();
    await step.hooks.record.promise(record(FROM, { tenant: "hooked" }), exchange);
    const report = await usageQueries(step.hooks).promise({ fromMs: FROM, toMs: TO, groupBy: "tenant" }, exchange);
    await step.instance.close?.();
    expect(report?.rows).toEqual([{ key: "hooked", requests: 1, inputTokens: 100, outputTokens: 20, cachedReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0.0012, unknownCostRequests: 0, cacheHits: 0, savedCostUsd: 0 }]);
  });
});
