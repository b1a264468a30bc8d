/**
 * The row record-postgres stores for a record, both ways: written by its sink, read back by
 * `switchyard simulate --records postgres://…`. One list of columns, so writer and reader
 * cannot drift apart. Only the RequestRecord's own fields are stored, plus the captured request
 * and answer digest when the step captures bodies: never completion text, never a key.
 */
import type { RequestRecord } from "../../core/index.js";
import type { CapturedFields, CapturedRequest } from "./captured-request.js";

export type StoredRecord = RequestRecord & CapturedFields;

export const RECORD_COLUMNS = [
  "id", "time", "pipeline", "route", "format", "tenant", "key_id", "backend", "model", "upstream_model", "stream", "status",
  "latency_ms", "ttfb_ms", "input_tokens", "output_tokens", "cached_read_tokens", "cache_write_tokens", "reasoning_tokens",
  "cost_usd", "attempts", "error", "notes", "session", "finish_reason", "request", "answer_digest", "cache", "saved_cost_usd",
] as const;

export function rowOf(r: StoredRecord): unknown[] {
  const u = r.usage;
  return [
    r.id, r.time, r.pipeline, r.route, r.format, r.tenant ?? null, r.keyId ?? null, r.backend ?? null, r.model ?? null,
    r.upstreamModel ?? null, r.stream, r.status, r.latencyMs, r.ttfbMs ?? null, u?.inputTokens ?? null, u?.outputTokens ?? null,
    u?.cachedReadTokens ?? null, u?.cacheWriteTokens ?? null, u?.reasoningTokens ?? null, r.costUsd,
    JSON.stringify(r.attempts), r.error ? JSON.stringify(r.error) : null, r.notes && r.notes.length > 0 ? JSON.stringify(r.notes) : null,
    r.session ? JSON.stringify(r.session) : null, r.finishReason ?? null, r.request ? JSON.stringify(r.request) : null, r.answerDigest ?? null,
    r.cache ?? null, r.savedCostUsd ?? null,
  ];
}

/** A row as `pg` returns it (timestamptz as Date, numeric as text, jsonb parsed). */
export type RecordRow = Record<(typeof RECORD_COLUMNS)[number], unknown>;

/** The record a row stores: fields the row has no value for are absent, as in the JSONL sink's lines. */
export function recordOfRow(row: RecordRow): StoredRecord {
  const text = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
  const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
  const record: StoredRecord = {
    id: String(row.id),
    time: row.time instanceof Date ? row.time.toISOString() : new Date(String(row.time)).toISOString(),
    pipeline: String(row.pipeline),
    route: String(row.route),
    format: String(row.format),
    stream: row.stream === true,
    status: Number(row.status),
    latencyMs: Number(row.latency_ms),
    costUsd: num(row.cost_usd) ?? null,
    attempts: (row.attempts ?? []) as RequestRecord["attempts"],
  };
  const usage = row.input_tokens === null && row.output_tokens === null ? undefined : {
    inputTokens: Number(row.input_tokens ?? 0), outputTokens: Number(row.output_tokens ?? 0),
    ...(row.cached_read_tokens === null ? {} : { cachedReadTokens: Number(row.cached_read_tokens) }),
    ...(row.cache_write_tokens === null ? {} : { cacheWriteTokens: Number(row.cache_write_tokens) }),
    ...(row.reasoning_tokens === null ? {} : { reasoningTokens: Number(row.reasoning_tokens) }),
  };
  const optional: Partial<StoredRecord> = {
    tenant: text(row.tenant), keyId: text(row.key_id), backend: text(row.backend), model: text(row.model), upstreamModel: text(row.upstream_model),
    ttfbMs: num(row.ttfb_ms), usage, error: (row.error ?? undefined) as StoredRecord["error"], notes: (row.notes ?? undefined) as string[] | undefined,
    session: (row.session ?? undefined) as StoredRecord["session"], finishReason: text(row.finish_reason), request: (row.request ?? undefined) as CapturedRequest | undefined, answerDigest: text(row.answer_digest),
    cache: text(row.cache) as StoredRecord["cache"], savedCostUsd: num(row.saved_cost_usd),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (record as unknown as Record<string, unknown>)[key] = value;
  return record;
}
