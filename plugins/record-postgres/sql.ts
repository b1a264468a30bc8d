/**
 * The records table: its migration and the multi-row INSERT. Only the RequestRecord's own fields
 * are stored: ids, routing, status, timings, usage, cost, attempts, error codes and notes. Never
 * prompt or completion text, never a key (keyId is the key's name, not its value).
 */
import type { RequestRecord } from "../../core/index.js";

const COLUMNS = [
  "id", "time", "pipeline", "route", "format", "tenant", "key_id", "backend", "model", "upstream_model", "stream", "status",
  "latency_ms", "ttfb_ms", "input_tokens", "output_tokens", "cached_read_tokens", "cache_write_tokens", "reasoning_tokens",
  "cost_usd", "attempts", "error", "notes",
] as const;

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
      notes jsonb
    )`,
    `CREATE INDEX IF NOT EXISTS "${indexBase}_time_idx" ON ${t} (time)`,
    `CREATE INDEX IF NOT EXISTS "${indexBase}_tenant_time_idx" ON ${t} (tenant, time)`,
  ];
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function rowOf(r: RequestRecord): unknown[] {
  const u = r.usage;
  return [
    r.id, r.time, r.pipeline, r.route, r.format, r.tenant ?? null, r.keyId ?? null, r.backend ?? null, r.model ?? null,
    r.upstreamModel ?? null, r.stream, r.status, r.latencyMs, r.ttfbMs ?? null, u?.inputTokens ?? null, u?.outputTokens ?? null,
    u?.cachedReadTokens ?? null, u?.cacheWriteTokens ?? null, u?.reasoningTokens ?? null, r.costUsd,
    JSON.stringify(r.attempts), r.error ? JSON.stringify(r.error) : null, r.notes && r.notes.length > 0 ? JSON.stringify(r.notes) : null,
  ];
}

/** One INSERT for the whole batch; a record already stored (a retried batch that had in fact committed) is skipped. */
export function insertSql(table: string, records: readonly RequestRecord[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const rows = records.map((record) => {
    const row = rowOf(record);
    const start = values.length;
    values.push(...row);
    return `(${row.map((_, i) => `$${start + i + 1}`).join(", ")})`;
  });
  return { text: `INSERT INTO ${quoteTable(table)} (${COLUMNS.join(", ")}) VALUES ${rows.join(", ")} ON CONFLICT (id) DO NOTHING`, values };
}

/** Most rows per INSERT: PostgreSQL takes at most 65535 parameters per statement. */
export const MAX_BATCH = Math.floor(65535 / COLUMNS.length);
