/** record-postgres against a real PostgreSQL: migration, batches, and no record lost across an outage. */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../../core/index.js";
import { silentLogger } from "../../../lib/log.js";
import { configFor, createTestExchange, createTestStep } from "../../../testkit/index.js";
import recordPostgres, { PostgresRecordSink } from "../../../plugins/record-postgres/index.js";
import { skipWithoutPostgres, startPostgresServer, type PostgresServer } from "../../support/postgres-server.js";

let server: PostgresServer;
let dir: string;

beforeAll(async () => {
  server = await startPostgresServer();
  dir = await mkdtemp(join(tmpdir(), "switchyard-record-pg-"));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function record(i: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: randomUUID(),
    time: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
    pipeline: "chat",
    route: "POST /v1/chat/completions",
    format: "openai-chat",
    tenant: `t${i % 3}`,
    keyId: "key-a",
    backend: "openai",
    model: "gpt-4o",
    upstreamModel: "gpt-4o-2024-08-06",
    stream: i % 2 === 0,
    status: 200,
    latencyMs: 12.5,
    ttfbMs: 3,
    usage: { inputTokens: 10, outputTokens: 20, cachedReadTokens: 4 },
    costUsd: 0.000123,
    attempts: [{ backend: "openai", model: "gpt-4o", status: 200, latencyMs: 12 }],
    ...extra,
  };
}

function sink(table: string, overrides: Partial<ConstructorParameters<typeof PostgresRecordSink>[0]> = {}) {
  return new PostgresRecordSink({
    connectionString: server.url,
    table,
    batchSize: 50,
    flushIntervalMs: 20,
    retryIntervalMs: 100,
    spoolPath: join(dir, `${table}-${randomUUID()}.spool.jsonl`),
    spoolMaxBytes: 16 * 1024 * 1024,
    connectTimeoutMs: 1000,
    poolSize: 2,
    log: silentLogger,
    ...overrides,
  });
}

const count = async (table: string) => Number((await query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

describe.skipIf(skipWithoutPostgres())("record-postgres", () => {
  it("creates the table at start (twice is fine) and stores records from the record hook, with no prompt text", async () => {
    const config = { connectionString: server.url, table: "requests_basic", spoolPath: join(dir, "basic.spool.jsonl"), flushIntervalMs: 20 };
    const first = await createTestStep(recordPostgres, config);
    const second = await createTestStep(recordPostgres, config);
    const exchange = createTestExchange();
    const r = record(1, { error: { type: "rate_limit", code: "rate_limit_exceeded", message: "Rate limit reached" }, notes: ["guard-pii: redacted email=1"] });
    await first.hooks.record.promise(r, exchange);
    await first.instance.close?.();
    await second.instance.close?.();
    const rows = await query<Record<string, unknown>>("SELECT * FROM requests_basic");
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ id: r.id, pipeline: "chat", tenant: "t1", key_id: "key-a", status: 200, input_tokens: 10, output_tokens: 20, cached_read_tokens: 4, stream: false });
    expect(Number(row.cost_usd)).toBeCloseTo(0.000123, 9);
    expect(row.error).toEqual(r.error);
    expect(row.notes).toEqual(r.notes);
    expect(Object.keys(row).sort()).toEqual(
      ["attempts", "backend", "cache", "cache_write_tokens", "cached_read_tokens", "cost_usd", "error", "finish_reason", "format", "id", "input_tokens", "key_id", "latency_ms", "model", "notes", "output_tokens", "pipeline", "reasoning_tokens", "route", "saved_cost_usd", "session", "status", "request", "answer_digest", "stream", "tenant", "time", "ttfb_ms", "upstream_model"].sort(),
    );
  });

  it("stores a WebSocket session's totals in session, and null for plain requests", async () => {
    const config = { connectionString: server.url, table: "requests_session", spoolPath: join(dir, "session.spool.jsonl"), flushIntervalMs: 20 };
    const step = await createTestStep(recordPostgres, config);
    const exchange = createTestExchange();
    const totals = { durationMs: 1200, framesUp: 3, bytesUp: 120, framesDown: 7, bytesDown: 900, clientCloseCode: 1000, endedBy: "client" };
    await step.hooks.record.promise(record(1, { status: 101, session: totals }), exchange);
    await step.hooks.record.promise(record(2), exchange);
    await step.instance.close?.();
    const rows = await query<{ status: number; session: unknown }>("SELECT status, session FROM requests_session ORDER BY status");
    expect(rows).toEqual([{ status: 101, session: totals }, { status: 200, session: null }]);
  });

  it("stores the finish reason, and adds its column to a table made before finish reasons were recorded", async () => {
    // The table as the plugin made it before `session` and `finish_reason` existed.
    await query(`CREATE TABLE requests_old (
      id text PRIMARY KEY, time timestamptz NOT NULL, pipeline text NOT NULL, route text NOT NULL, format text NOT NULL,
      tenant text, key_id text, backend text, model text, upstream_model text, stream boolean NOT NULL, status integer NOT NULL,
      latency_ms double precision NOT NULL, ttfb_ms double precision, input_tokens integer, output_tokens integer,
      cached_read_tokens integer, cache_write_tokens integer, reasoning_tokens integer, cost_usd numeric(20, 10),
      attempts jsonb NOT NULL, error jsonb, notes jsonb)`);
    const config = { connectionString: server.url, table: "requests_old", spoolPath: join(dir, "old.spool.jsonl"), flushIntervalMs: 20 };
    const step = await createTestStep(recordPostgres, config);
    const exchange = createTestExchange();
    await step.hooks.record.promise(record(1, { finishReason: "end_turn" }), exchange);
    await step.hooks.record.promise(record(2, { status: 502 }), exchange);
    await step.instance.close?.();
    const rows = await query<{ status: number; finish_reason: string | null }>("SELECT status, finish_reason FROM requests_old ORDER BY status");
    expect(rows).toEqual([{ status: 200, finish_reason: "end_turn" }, { status: 502, finish_reason: null }]);
  });

  it("writes in batches and close() flushes what is buffered", async () => {
    const s = sink("requests_batches", { flushIntervalMs: 60_000, batchSize: 100 });
    await s.start();
    for (let i = 0; i < 250; i++) s.add(record(i));
    await s.close();
    expect(await count("requests_batches")).toBe(250);
    expect(s.stats).toMatchObject({ inserted: 250, spooled: 0, dropped: 0 });
  });

  it.each(["fast", "immediate"] as const)("loses no record when Postgres restarts (%s shutdown) in the middle of the load", async (mode) => {
    const table = `requests_restart_${mode}`;
    const s = sink(table);
    await s.start();
    const total = 3000;
    let restart: Promise<void> | undefined;
    for (let i = 0; i < total; i += 50) {
      for (let j = i; j < i + 50; j++) s.add(record(j));
      if (i === 750) {
        restart = (async () => {
          await server.stopServer(mode);
          await new Promise((r) => setTimeout(r, 400));
          await server.start();
        })();
      }
      await new Promise((r) => setTimeout(r, 15));
    }
    await restart;
    await s.close();
    const stored = await count(table);
    console.log(`record-postgres: ${total} records across a Postgres restart (${mode}): ${stored} stored, ${s.stats.spooled} went through the spool, ${s.stats.replayed} replayed, ${s.stats.dropped} dropped, ${total - stored} lost`);
    expect(s.stats.spooled).toBeGreaterThan(0);
    expect(stored).toBe(total);
    expect(s.stats.dropped).toBe(0);
  }, 60_000);

  it("keeps records spooled on disk while Postgres is down at shutdown, and writes them at the next start", async () => {
    const spoolPath = join(dir, "handover.spool.jsonl");
    await server.stopServer("fast");
    const before = sink("requests_handover", { spoolPath, connectTimeoutMs: 300 });
    try {
      await before.start();
      for (let i = 0; i < 120; i++) before.add(record(i));
      await before.close();
      expect(before.stats.spooled).toBe(120);
      const lines = (await readFile(spoolPath, "utf8")).trim().split("\n");
      expect(lines).toHaveLength(120);
    } finally {
      await server.start();
    }
    const after = sink("requests_handover", { spoolPath });
    await after.start();
    await after.close();
    expect(await count("requests_handover")).toBe(120);
    expect(existsSync(spoolPath) || existsSync(`${spoolPath}.replay`)).toBe(false);
  }, 60_000);

  it("bounds the spool: what does not fit is dropped and counted", async () => {
    const s = sink("requests_bounded", { connectionString: "postgres://postgres@127.0.0.1:1/none", connectTimeoutMs: 200, spoolMaxBytes: 4096 });
    await s.start();
    for (let i = 0; i < 40; i++) s.add(record(i));
    await s.close();
    expect(s.stats.spooled).toBeGreaterThan(0);
    expect(s.stats.dropped).toBe(40 - s.stats.spooled);
    expect(s.stats.dropped).toBeGreaterThan(0);
  });

  it("rejects table names that are not plain identifiers", () => {
    expect(() => configFor(recordPostgres, { connectionString: "postgres://x", table: "requests; DROP TABLE users" })).toThrow(/table/);
  });
});
