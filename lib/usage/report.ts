/**
 * The usage question between the endpoint that asks it (usage-api) and the record sinks that sum
 * what they stored (record-jsonl, record-postgres): the query, the report, and the typed hook they
 * meet on (`hooks.query.for("usage")`). A sink holding whole records shares lib/usage/tally.ts; a
 * SQL sink computes the same sums in its database, following the rules written on UsageQuery and
 * UsageRow.
 */
import type { AsyncSeriesBailHook } from "tapable";
import type { Exchange, PipelineHooks } from "../../core/index.js";

/** The hook usage questions go through: the first sink that returns a report answers, in file order. */
export function usageQueries(hooks: PipelineHooks): AsyncSeriesBailHook<[UsageQuery, Exchange], UsageReport | undefined> {
  return hooks.query.for("usage") as unknown as AsyncSeriesBailHook<[UsageQuery, Exchange], UsageReport | undefined>;
}
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
  /** Requests a cache step answered (record.cache "hit"): in `requests` and the token sums, at cost 0. */
  cacheHits: number;
  /** USD the cache hits saved (record.savedCostUsd, where known). */
  savedCostUsd: number;
}

export interface UsageReport {
  rows: UsageRow[];
}
