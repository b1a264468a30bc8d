/**
 * The usage API's model: the query an admin sends (`GET <usage route>?from&to&group_by`), the
 * report a record sink answers through the `queryUsage` hook, and a tally that sinks holding whole
 * records (record-jsonl) share. A SQL sink computes the same sums in its database instead; the
 * rules it must follow are the ones written on UsageQuery and UsageRow.
 */
import { GatewayError } from "./errors.js";
import type { RequestRecord } from "./record.js";

export const USAGE_GROUPS = ["tenant", "key", "model", "backend", "day"] as const;
export type UsageGroupBy = (typeof USAGE_GROUPS)[number];

/** Which records to sum and how to group them. */
export interface UsageQuery {
  /** Records whose `time` (arrival) is at or after this, epoch ms... */
  readonly fromMs: number;
  /** ...and strictly before this: half-open, so back-to-back ranges never count a record twice. */
  readonly toMs: number;
  /**
   * tenant: record.tenant; key: record.keyId; model: record.model (the name the client asked for);
   * backend: record.backend (the one that served the reply); day: the UTC day of record.time,
   * YYYY-MM-DD.
   */
  readonly groupBy: UsageGroupBy;
}

/** The sums of one group. Every record in range counts as a request, refused and failed ones too. */
export interface UsageRow {
  /** The group's value; null for records without one (refused before auth, failed before a backend…). */
  key: string | null;
  requests: number;
  /** Token sums; cached-read and cache-write tokens are inside inputTokens, reasoning inside outputTokens, as in IrUsage. */
  inputTokens: number;
  outputTokens: number;
  cachedReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** USD of the records with a known cost. */
  costUsd: number;
  /** Records with usage but no price (costUsd null): costUsd leaves them out, so this says by how many. */
  unknownCostRequests: number;
}

export interface UsageReport {
  rows: UsageRow[];
}

const PARAMS = ["from", "to", "group_by"];
/** ISO 8601 as people type it: a UTC day, or a date-time with seconds optional and a zone required (a zone-less time is ambiguous). */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** The query from a request's query string; every mistake is a 400 naming its parameter. `to` defaults to now, `group_by` to tenant. */
export function parseUsageQuery(query: Readonly<Record<string, string | string[] | undefined>>, nowMs: number): UsageQuery {
  for (const name of Object.keys(query)) {
    if (!PARAMS.includes(name)) throw badParam(name, `unknown query parameter "${name}"; the usage API takes ${PARAMS.join(", ")}`);
  }
  const from = single(query, "from");
  if (from === undefined) throw badParam("from", "from is required: an ISO 8601 time such as 2026-05-01 or 2026-05-01T00:00:00Z");
  const fromMs = parseTime(from, "from");
  const to = single(query, "to");
  const toMs = to === undefined ? nowMs : parseTime(to, "to");
  if (toMs <= fromMs) throw badParam("to", `to (${new Date(toMs).toISOString()}) must be after from (${new Date(fromMs).toISOString()})`);
  const groupBy = single(query, "group_by") ?? "tenant";
  if (!(USAGE_GROUPS as readonly string[]).includes(groupBy)) throw badParam("group_by", `group_by must be one of ${USAGE_GROUPS.join(", ")}, not "${groupBy}"`);
  return { fromMs, toMs, groupBy: groupBy as UsageGroupBy };
}

function single(query: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badParam(name, `${name} is given ${value.length} times; give it once`);
  return value;
}

function parseTime(text: string, name: string): number {
  const m = ISO_TIME.exec(text);
  const ms = m ? Date.parse(text) : Number.NaN;
  // Date.parse rolls 2026-02-30 over to March 2; a calendar day that does not exist is a typo.
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (Number.isNaN(ms) || !day || day.getUTCMonth() !== Number(m![2]) - 1 || day.getUTCDate() !== Number(m![3])) {
    throw badParam(name, `${name} must be an ISO 8601 time such as 2026-05-01 or 2026-05-01T00:00:00Z (with Z or an offset), not "${text}"`);
  }
  return ms;
}

function badParam(param: string, message: string): GatewayError {
  return new GatewayError({ status: 400, type: "invalid_request", code: "invalid_usage_query", message, param, source: "usage" });
}

/** Sums records into rows; for sinks that read whole records (a file, memory). */
export class UsageTally {
  private readonly rows = new Map<string | null, UsageRow>();

  constructor(private readonly query: UsageQuery) {}

  /**
   * Counts the record if its time is in the query's range; says whether it did. Records come
   * from storage that older versions may have written, so odd fields count as absent, never throw.
   */
  add(record: RequestRecord): boolean {
    const at = typeof record.time === "string" ? Date.parse(record.time) : Number.NaN;
    if (!(at >= this.query.fromMs && at < this.query.toMs)) return false;
    const key = groupKey(record, this.query.groupBy, at);
    let row = this.rows.get(key);
    if (!row) {
      row = { key, requests: 0, inputTokens: 0, outputTokens: 0, cachedReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0, unknownCostRequests: 0 };
      this.rows.set(key, row);
    }
    row.requests++;
    const usage = record.usage;
    if (usage && typeof usage === "object") {
      row.inputTokens += count(usage.inputTokens);
      row.outputTokens += count(usage.outputTokens);
      row.cachedReadTokens += count(usage.cachedReadTokens);
      row.cacheWriteTokens += count(usage.cacheWriteTokens);
      row.reasoningTokens += count(usage.reasoningTokens);
    }
    if (typeof record.costUsd === "number" && Number.isFinite(record.costUsd)) row.costUsd += record.costUsd;
    else if (usage) row.unknownCostRequests++;
    return true;
  }

  report(): UsageReport {
    return { rows: [...this.rows.values()].map((r) => ({ ...r })) };
  }
}

function groupKey(record: RequestRecord, groupBy: UsageGroupBy, at: number): string | null {
  const value = groupBy === "day" ? new Date(at).toISOString().slice(0, 10)
    : groupBy === "tenant" ? record.tenant
    : groupBy === "key" ? record.keyId
    : groupBy === "model" ? record.model
    : record.backend;
  return typeof value === "string" ? value : null;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/** The API's JSON body: snake_case like the OpenAI-style APIs beside it, rows by key (null last), costs rounded to 1e-9 USD. */
export function renderUsageReport(query: UsageQuery, report: UsageReport): Record<string, unknown> {
  const rows = [...report.rows].sort((a, b) => (a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : 1));
  return {
    from: new Date(query.fromMs).toISOString(),
    to: new Date(query.toMs).toISOString(),
    group_by: query.groupBy,
    rows: rows.map((r) => ({
      key: r.key,
      requests: r.requests,
      input_tokens: r.inputTokens,
      output_tokens: r.outputTokens,
      cached_read_tokens: r.cachedReadTokens,
      cache_write_tokens: r.cacheWriteTokens,
      reasoning_tokens: r.reasoningTokens,
      cost_usd: Math.round(r.costUsd * 1e9) / 1e9,
      unknown_cost_requests: r.unknownCostRequests,
    })),
  };
}
