/**
 * The records table: its migration, the multi-row INSERT and the usage API's aggregate. Only the RequestRecord's own fields
 * are stored (ids, routing, status, timings, usage, finish reason, cost, cache verdict and saved cost, attempts, error codes, notes and WebSocket session totals; the row
 * is lib/record/postgres-rows.ts), plus the request body and answer digest when the step captures bodies. Never completion
 * text, never a key (keyId is the key's name, not its value).
 */
import { RECORD_COLUMNS, rowOf, type StoredRecord } from "../../lib/record/postgres-rows.js";
import type { UsageGroupBy, UsageQuery, UsageRow } from "../../lib/usage/report.js";

/** `name` or `schema.name`, each part a plain lower-case identifier (the config schema checks the pattern). */
export function quoteTable(table: string): string {
  return table
    .split(".")
    .map((part) => `"${part}"`)
    .join(".");
}

/** Idempotent, and safe when several gateway instances start at once (an advisory lock serialises them). */
export function migrationSql(table: string): string[] {
  const t = quoteTable(table);
  const indexBase = table.replace(/\./g, "_");
  return [
    `SELECT pg_advisory_xact_lock(hashtext('switchyard:migrate:' || ${literal(table)}))`,
    `CREATE TABLE IF NOT EXISTS ${t} (
      id text PRIMARY KEY,
      time timestamptz NOT NULL,
      pipeline text NOT NULL,
      route text NOT NULL,
      format text NOT NULL,
      tenant text,
      key_id text,
      backend text,
      model text,
      upstream_model text,
      stream boolean NOT NULL,
      status integer NOT NULL,
      latency_ms double precision NOT NULL,
      ttfb_ms double precision,
      input_tokens integer,
      output_tokens integer,
      cached_read_tokens integer,
      cache_write_tokens integer,
      reasoning_tokens integer,
      cost_usd numeric(20, 10),
      attempts jsonb NOT NULL,
      error jsonb,
      notes jsonb,
      session jsonb,
      finish_reason text,
      request jsonb,
      answer_digest text,
      cache text,
      saved_cost_usd numeric(20, 10)
    )`,
    // Tables made before WebSocket sessions, then finish reasons, were recorded.
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS session jsonb`,
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS finish_reason text`,
    // Tables made before bodies could be captured (captureBody, for simulate).
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS request jsonb`,
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS answer_digest text`,
    // Tables made before the response cache recorded its verdicts.
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS cache text`,
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS saved_cost_usd numeric(20, 10)`,
    `CREATE INDEX IF NOT EXISTS "${indexBase}_time_idx" ON ${t} (time)`,
    `CREATE INDEX IF NOT EXISTS "${indexBase}_tenant_time_idx" ON ${t} (tenant, time)`,
  ];
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** One INSERT for the whole batch; a record already stored (a retried batch that had in fact committed) is skipped. */
export function insertSql(table: string, records: readonly StoredRecord[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const rows = records.map((record) => {
    const row = rowOf(record);
    const start = values.length;
    values.push(...row);
    return `(${row.map((_, i) => `$${start + i + 1}`).join(", ")})`;
  });
  return { text: `INSERT INTO ${quoteTable(table)} (${RECORD_COLUMNS.join(", ")}) VALUES ${rows.join(", ")} ON CONFLICT (id) DO NOTHING`, values };
}

/** Most rows per INSERT: PostgreSQL takes at most 65535 parameters per statement. */
export const MAX_BATCH = Math.floor(65535 / RECORD_COLUMNS.length);

/** The column each usage grouping sums by, as UsageQuery defines them; day is the UTC day of the arrival time. */
const USAGE_KEY: Record<UsageGroupBy, string> = {
  tenant: "tenant",
  key: "key_id",
  model: "model",
  backend: "backend",
  day: "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
};

/**
 * The usage API's sums in one statement. Every sum is cast to float8: pg hands bigint and numeric
 * back as strings, and float8 is exact for counts and token sums below 2^53. The range goes in as
 * ISO text, not epoch seconds, so a record at exactly `from` or `to` lands on the right side.
 * A record has usage when any token column is set (rowOf writes them all or none).
 */
export function usageSql(table: string, query: UsageQuery): { text: string; values: unknown[] } {
  const sum = (column: string) => `COALESCE(sum(${column}), 0)::float8`;
  return {
    text: `SELECT ${USAGE_KEY[query.groupBy]} AS key,
      count(*)::float8 AS requests,
      ${sum("input_tokens")} AS input_tokens,
      ${sum("output_tokens")} AS output_tokens,
      ${sum("cached_read_tokens")} AS cached_read_tokens,
      ${sum("cache_write_tokens")} AS cache_write_tokens,
      ${sum("reasoning_tokens")} AS reasoning_tokens,
      ${sum("cost_usd")} AS cost_usd,
      (count(*) FILTER (WHERE cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)))::float8 AS unknown_cost_requests,
      (count(*) FILTER (WHERE cache = 'hit'))::float8 AS cache_hits,
      ${sum("saved_cost_usd")} AS saved_cost_usd
    FROM ${quoteTable(table)}
    WHERE time >= $1::timestamptz AND time < $2::timestamptz
    GROUP BY 1`,
    values: [new Date(query.fromMs).toISOString(), new Date(query.toMs).toISOString()],
  };
}

export interface UsageSqlRow {
  key: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cached_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  unknown_cost_requests: number;
  cache_hits: number;
  saved_cost_usd: number;
}

export function usageRowOf(r: UsageSqlRow): UsageRow {
  return {
    key: r.key,
    requests: r.requests,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    cachedReadTokens: r.cached_read_tokens,
    cacheWriteTokens: r.cache_write_tokens,
    reasoningTokens: r.reasoning_tokens,
    costUsd: r.cost_usd,
    unknownCostRequests: r.unknown_cost_requests,
    cacheHits: r.cache_hits,
    savedCostUsd: r.saved_cost_usd,
  };
}
