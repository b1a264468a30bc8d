/**
 * The usage API's contract between the endpoint that answers it (usage-api) and the record sinks
 * that sum what they stored (the `queryUsage` hook): the query and the report. A sink holding whole
 * records shares lib/usage/tally.ts; a SQL sink computes the same sums in its database, following
 * the rules written on UsageQuery and UsageRow.
 */
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
