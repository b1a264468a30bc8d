/** Usage sums for sinks that read whole records back (record-jsonl), by the rules lib/usage/report.ts writes down. */
import type { RequestRecord } from "../../core/index.js";
import type { UsageGroupBy, UsageQuery, UsageReport, UsageRow } from "./report.js";

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
      row = { key, requests: 0, inputTokens: 0, outputTokens: 0, cachedReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0, unknownCostRequests: 0, cacheHits: 0, savedCostUsd: 0 };
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
    if (record.cache === "hit") row.cacheHits++;
    if (typeof record.savedCostUsd === "number" && Number.isFinite(record.savedCostUsd)) row.savedCostUsd += record.savedCostUsd;
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

