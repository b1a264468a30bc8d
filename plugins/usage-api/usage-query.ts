/** The usage API's query string and JSON reply. */
import { GatewayError } from "../../core/index.js";
import { USAGE_GROUPS, type UsageGroupBy, type UsageQuery, type UsageReport } from "../../lib/usage/report.js";


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
      cache_hits: r.cacheHits,
      saved_cost_usd: Math.round(r.savedCostUsd * 1e9) / 1e9,
    })),
  };
}
