import { describe, expect, it } from "vitest";
import { GatewayError, type RequestRecord } from "../../../core/index.js";
import { parseUsageQuery, renderUsageReport } from "../../../plugins/usage-api/usage-query.js";
import { UsageTally } from "../../../lib/usage/tally.js";
import type { UsageQuery } from "../../../lib/usage/report.js";

const NOW = Date.parse("2026-06-15T12:00:00Z");

function rejection(query: Record<string, string | string[]>): GatewayError {
  try {
    parseUsageQuery(query, NOW);
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error("expected a rejection");
}

describe("parseUsageQuery", () => {
  it("reads from, to and group_by; a bare day is UTC midnight and offsets are honoured", () => {
    expect(parseUsageQuery({ from: "2026-06-01", to: "2026-06-02T02:00:00+02:00", group_by: "model" }, NOW)).toEqual({
      fromMs: Date.parse("2026-06-01T00:00:00Z"),
      toMs: Date.parse("2026-06-02T00:00:00Z"),
      groupBy: "model",
    });
  });

  it("defaults to to now and group_by to tenant", () => {
    expect(parseUsageQuery({ from: "2026-06-15T11:00Z" }, NOW)).toEqual({ fromMs: NOW - 3_600_000, toMs: NOW, groupBy: "tenant" });
  });

  it.each([
    [{}, "from", /from is required/],
    [{ from: "yesterday" }, "from", /from must be an ISO 8601 time .* not "yesterday"/],
    [{ from: "1750000000" }, "from", /from must be an ISO 8601 time/],
    [{ from: "2026-02-30" }, "from", /from must be an ISO 8601 time/],
    [{ from: "2026-06-01T10:00:00" }, "from", /with Z or an offset/],
    [{ from: "2026-06-01", to: "2026-13-01" }, "to", /to must be an ISO 8601 time/],
    [{ from: "2026-06-02", to: "2026-06-01" }, "to", /to \(2026-06-01T00:00:00.000Z\) must be after from/],
    [{ from: "2026-06-01", to: "2026-06-01" }, "to", /must be after from/],
    [{ from: "2026-06-01", group_by: "region" }, "group_by", /group_by must be one of tenant, key, model, backend, day, not "region"/],
    [{ from: "2026-06-01", group_by: ["tenant", "model"] }, "group_by", /group_by is given 2 times/],
    [{ from: "2026-06-01", groupBy: "tenant" }, "groupBy", /unknown query parameter "groupBy"; the usage API takes from, to, group_by/],
  ])("rejects %j with a 400 naming %s", (query, param, message) => {
    const err = rejection(query);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 400, type: "invalid_request", code: "invalid_usage_query", param });
    expect(err.message).toMatch(message);
  });
});

const record = (over: Partial<RequestRecord>): RequestRecord => ({
  id: "r",
  time: "2026-06-10T10:00:00.000Z",
  pipeline: "p",
  route: "/v1/chat/completions",
  format: "openai-chat",
  stream: false,
  status: 200,
  latencyMs: 1,
  costUsd: null,
  attempts: [],
  ...over,
});

describe("UsageTally", () => {
  const june: UsageQuery = { fromMs: Date.parse("2026-06-01T00:00:00Z"), toMs: Date.parse("2026-07-01T00:00:00Z"), groupBy: "tenant" };

  it("sums tokens and known costs per group and counts priced-nothing requests apart", () => {
    const tally = new UsageTally(june);
    tally.add(record({ tenant: "acme", usage: { inputTokens: 100, outputTokens: 10, cachedReadTokens: 40 }, costUsd: 0.5 }));
    tally.add(record({ tenant: "acme", usage: { inputTokens: 50, outputTokens: 5, cacheWriteTokens: 7, reasoningTokens: 2 }, costUsd: 0.25 }));
    tally.add(record({ tenant: "acme", usage: { inputTokens: 1, outputTokens: 1 }, costUsd: null }));
    tally.add(record({ tenant: "acme", status: 401, costUsd: null }));
    tally.add(record({ status: 401 }));
    expect(tally.report().rows).toEqual([
      { key: "acme", requests: 4, inputTokens: 151, outputTokens: 16, cachedReadTokens: 40, cacheWriteTokens: 7, reasoningTokens: 2, costUsd: 0.75, unknownCostRequests: 1, cacheHits: 0, savedCostUsd: 0 },
      { key: null, requests: 1, inputTokens: 0, outputTokens: 0, cachedReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0, unknownCostRequests: 0, cacheHits: 0, savedCostUsd: 0 },
    ]);
  });

  it("counts from inclusive and to exclusive, and skips records whose time cannot be read", () => {
    const tally = new UsageTally(june);
    expect(tally.add(record({ time: "2026-06-01T00:00:00.000Z" }))).toBe(true);
    expect(tally.add(record({ time: "2026-07-01T00:00:00.000Z" }))).toBe(false);
    expect(tally.add(record({ time: "2026-05-31T23:59:59.999Z" }))).toBe(false);
    expect(tally.add(record({ time: "garbage" }))).toBe(false);
    expect(tally.add(record({ time: 5 as never }))).toBe(false);
    expect(tally.report().rows.map((r) => r.requests)).toEqual([1]);
  });

  it.each([
    ["key", { keyId: "k1" }, "k1"],
    ["model", { model: "fast", upstreamModel: "gpt-4o-mini" }, "fast"],
    ["backend", { backend: "mock-a" }, "mock-a"],
    ["day", { time: "2026-06-10T23:30:00-02:00" }, "2026-06-11"],
  ] as const)("groups by %s", (groupBy, over, key) => {
    const tally = new UsageTally({ ...june, groupBy });
    tally.add(record(over));
    expect(tally.report().rows[0]!.key).toBe(key);
  });

  it("treats malformed stored numbers as absent instead of failing", () => {
    const tally = new UsageTally(june);
    tally.add(record({ tenant: "a", usage: { inputTokens: "9" as never, outputTokens: -3, cachedReadTokens: Number.NaN }, costUsd: "1" as never }));
    expect(tally.report().rows[0]).toMatchObject({ inputTokens: 0, outputTokens: 0, cachedReadTokens: 0, costUsd: 0, unknownCostRequests: 1 });
  });
});

describe("renderUsageReport", () => {
  it("writes snake_case rows sorted by key with null last, ISO bounds and costs rounded to 1e-9", () => {
    const query: UsageQuery = { fromMs: Date.parse("2026-06-01T00:00:00Z"), toMs: Date.parse("2026-06-02T00:00:00Z"), groupBy: "model" };
    const row = (key: string | null, costUsd: number) => ({ key, requests: 1, inputTokens: 2, outputTokens: 3, cachedReadTokens: 4, cacheWriteTokens: 5, reasoningTokens: 6, costUsd, unknownCostRequests: 0, cacheHits: 0, savedCostUsd: 0 });
    const body = renderUsageReport(query, { rows: [row(null, 0), row("b", 0.1 + 0.2), row("a", 1)] }) as { rows: Record<string, unknown>[] };
    expect(body).toMatchObject({ from: "2026-06-01T00:00:00.000Z", to: "2026-06-02T00:00:00.000Z", group_by: "model" });
    expect(body.rows.map((r) => r.key)).toEqual(["a", "b", null]);
    expect(body.rows[1]).toEqual({
      key: "b", requests: 1, input_tokens: 2, output_tokens: 3, cached_read_tokens: 4, cache_write_tokens: 5, reasoning_tokens: 6, cost_usd: 0.3, unknown_cost_requests: 0, cache_hits: 0, saved_cost_usd: 0,
    });
  });
});
