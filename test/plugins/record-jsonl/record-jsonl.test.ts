import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { RequestRecord } from "../../../core/index.js";
import { usageQueries } from "../../../lib/usage/report.js";
import { MAX_RECORD_LINE_BYTES } from "../../../plugins/record-jsonl/usage-scan.js";
import { createTestExchange, createTestStep } from "../../../testkit/index.js";
import recordJsonl from "../../../plugins/record-jsonl/index.js";
import { captureLog } from "./capture-log.js";
import { waitForRecords } from "../../support/records.js";
import { WAIT_MS } from "../../support/wait.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "record-jsonl-"));
});

function record(n: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: `req-${n}`,
    time: new Date(0).toISOString(),
    pipeline: "test",
    route: "POST /v1/chat/completions",
    format: "openai-chat",
    tenant: "acme",
    keyId: "k1",
    backend: "mock",
    model: "mock-small",
    upstreamModel: "mock-small",
    stream: false,
    status: 200,
    latencyMs: 12,
    usage: { inputTokens: 10, outputTokens: 5 },
    costUsd: 0.000002,
    attempts: [{ backend: "mock", model: "mock-small", status: 200, latencyMs: 11 }],
    ...extra,
  };
}

async function lines(path: string): Promise<RequestRecord[]> {
  const text = existsSync(path) ? await readFile(path, "utf8") : "";
  expect(text === "" || text.endsWith("\n")).toBe(true);
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as RequestRecord);
}

describe("record-jsonl", () => {
  it("appends one JSON line per record, creating missing folders relative to the pipeline file", async () => {
    const { hooks, instance } = await createTestStep(recordJsonl, { path: "./data/deep/records.jsonl", batchSize: 1 }, { baseDir: dir });
    const path = join(dir, "data/deep/records.jsonl");
    await hooks.record.promise(record(1), createTestExchange());
    await vi.waitFor(async () => expect(await lines(path)).toHaveLength(1), { timeout: WAIT_MS });
    expect((await lines(path))[0]).toEqual(record(1));
    await instance.close?.();
  });

  it("captureBody: stores the request body as steps left it, up to maxBytes, and only its size beyond", async () => {
    const { hooks, instance } = await createTestStep(recordJsonl, { path: "./records.jsonl", batchSize: 1, captureBody: { maxBytes: 200 } }, { baseDir: dir });
    const path = join(dir, "records.jsonl");
    const small = { model: "mock-small", messages: [{ role: "user", content: "write to [EMAIL]" }] };
    const large = { model: "mock-small", messages: [{ role: "user", content: "x".repeat(300) }] };
    await hooks.record.promise(record(1), createTestExchange({ body: small }));
    await hooks.record.promise(record(2), createTestExchange({ body: large }));
    await vi.waitFor(async () => expect(await lines(path)).toHaveLength(2), { timeout: WAIT_MS });
    const [first, second] = (await lines(path)) as (RequestRecord & { request: unknown })[];
    expect(first!.request).toEqual({ body: small });
    expect(second!.request).toEqual({ truncated: true, bytes: Buffer.byteLength(JSON.stringify(large)) });
    await instance.close?.();
  });

  it("appends to an existing file instead of truncating it", async () => {
    const path = join(dir, "records.jsonl");
    await writeFile(path, JSON.stringify(record(0)) + "\n");
    const { hooks, instance } = await createTestStep(recordJsonl, { path }, { baseDir: dir });
    await hooks.record.promise(record(1), createTestExchange());
    await instance.close?.();
    expect((await lines(path)).map((r) => r.id)).toEqual(["req-0", "req-1"]);
  });

  it("waits for batchSize records before writing, then writes them together", async () => {
    const path = join(dir, "r.jsonl");
    const { hooks, instance } = await createTestStep(recordJsonl, { path, batchSize: 3, flushIntervalMs: 600_000 }, { baseDir: dir });
    await hooks.record.promise(record(1), createTestExchange());
    await hooks.record.promise(record(2), createTestExchange());
    expect(await lines(path)).toEqual([]);
    await hooks.record.promise(record(3), createTestExchange());
    await vi.waitFor(async () => expect(await lines(path)).toHaveLength(3), { timeout: WAIT_MS });
    await instance.close?.();
  });

  it("writes a partial batch once flushIntervalMs has passed", async () => {
    const path = join(dir, "r.jsonl");
    const { hooks, instance } = await createTestStep(recordJsonl, { path, batchSize: 100, flushIntervalMs: 20 }, { baseDir: dir });
    await hooks.record.promise(record(1), createTestExchange());
    await vi.waitFor(async () => expect((await lines(path)).map((r) => r.id)).toEqual(["req-1"]), { timeout: WAIT_MS });
    await instance.close?.();
  });

  it("close() flushes every pending record: nothing is lost", async () => {
    const path = join(dir, "r.jsonl");
    const { hooks, instance } = await createTestStep(recordJsonl, { path, batchSize: 1000, flushIntervalMs: 600_000 }, { baseDir: dir });
    for (let i = 0; i < 250; i++) await hooks.record.promise(record(i), createTestExchange());
    await instance.close?.();
    expect((await lines(path)).map((r) => r.id)).toEqual(Array.from({ length: 250 }, (_, i) => `req-${i}`));
  });

  it("never interleaves lines when many large records arrive at once", async () => {
    const path = join(dir, "r.jsonl");
    const { hooks, instance } = await createTestStep(recordJsonl, { path, batchSize: 1, flushIntervalMs: 5 }, { baseDir: dir });
    // 100 records of ~100 KB each: far beyond a page or a pipe buffer, so interleaving would show.
    const big = (n: number) => record(n, { notes: [String(n % 10).repeat(100_000)] });
    await Promise.all(Array.from({ length: 100 }, (_, i) => hooks.record.promise(big(i), createTestExchange())));
    await instance.close?.();
    const written = await lines(path);
    expect(written).toHaveLength(100);
    expect(new Set(written.map((r) => r.id)).size).toBe(100);
    for (const r of written) expect(r.notes![0]).toBe(String(Number(r.id.slice(4)) % 10).repeat(100_000));
  });

  it.skipIf(!existsSync("/dev/full"))("logs a failing write and never throws it into the request", async () => {
    const { log, lines: logged } = captureLog();
    // /dev/full accepts the open and fails every write with ENOSPC.
    const { hooks, instance } = await createTestStep(recordJsonl, { path: "/dev/full", batchSize: 1 }, { baseDir: dir, log });
    await expect(hooks.record.promise(record(1), createTestExchange())).resolves.toBeUndefined();
    await vi.waitFor(() => expect(logged.some((l) => l.msg === "record write failed; will retry" && l.code === "ENOSPC")).toBe(true), { timeout: WAIT_MS });
    await expect(instance.close?.()).resolves.toBeUndefined();
    expect(logged.some((l) => l.msg === "records lost at close: the final write failed")).toBe(true);
  });

  it("answers usage queries from the file and from the records not yet written, each counted once", async () => {
    const path = join(dir, "r.jsonl");
    const at = (day: number) => `2026-06-${String(day).padStart(2, "0")}T10:00:00.000Z`;
    // A line from an earlier run, and one cut short by a crash mid-append.
    await writeFile(path, `${JSON.stringify(record(0, { time: at(1) }))}\n{"id":"cut-sh\n`);
    const { log, lines: logged } = captureLog();
    const { hooks, instance } = await createTestStep(recordJsonl, { path, batchSize: 3, flushIntervalMs: 600_000 }, { baseDir: dir, log });
    await hooks.record.promise(record(1, { time: at(2), tenant: "acme", costUsd: 0.5 }), createTestExchange());
    await hooks.record.promise(record(2, { time: at(3), tenant: "globex", costUsd: null }), createTestExchange());
    await hooks.record.promise(record(3, { time: at(4), tenant: "globex", usage: { inputTokens: 7, outputTokens: 1, cachedReadTokens: 3 }, costUsd: 0.25 }), createTestExchange());
    await vi.waitFor(async () => expect(await readFile(path, "utf8")).toContain('"req-3"'), { timeout: WAIT_MS });
    // These two wait in memory: below batchSize, and the flush interval is long.
    await hooks.record.promise(record(9, { time: "2026-07-01T00:00:00.000Z" }), createTestExchange());
    await hooks.record.promise(record(4, { time: at(5) }), createTestExchange());
    expect(await readFile(path, "utf8")).not.toContain('"req-4"');

    const query = { fromMs: Date.parse("2026-06-01T00:00:00Z"), toMs: Date.parse("2026-07-01T00:00:00Z"), groupBy: "tenant" as const };
    const report = await usageQueries(hooks).promise(query, createTestExchange());
    const byTenant = Object.fromEntries(report!.rows.map((r) => [r.key, r]));
    expect(byTenant.acme).toMatchObject({ requests: 3, inputTokens: 30, outputTokens: 15, costUsd: 0.000002 + 0.5 + 0.000002 });
    expect(byTenant.globex).toEqual({
      key: "globex", requests: 2, inputTokens: 17, outputTokens: 6, cachedReadTokens: 3, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0.25, unknownCostRequests: 1, cacheHits: 0, savedCostUsd: 0,
    });
    expect(logged.some((l) => l.msg === "usage query skipped lines that are not JSON records" && l.lines === 1)).toBe(true);

    await instance.close?.();
  });

  it("reads long lines across read chunks without splitting multi-byte characters", async () => {
    const path = join(dir, "r.jsonl");
    const { hooks, instance } = await createTestStep(recordJsonl, { path, batchSize: 1 }, { baseDir: dir });
    // ~100 KB per line of two-byte characters: lines and characters straddle every 64 KB chunk.
    for (let i = 0; i < 12; i++) await hooks.record.promise(record(i, { tenant: `t${i % 2}`, notes: ["é".repeat(50_001)] }), createTestExchange());
    await waitForRecords(path, (rs) => rs.length === 12, { what: "12 long records" });
    const report = await usageQueries(hooks).promise({ fromMs: 0, toMs: Date.parse("2100-01-01T00:00:00Z"), groupBy: "tenant" }, createTestExchange());
    expect(report!.rows.map((r) => [r.key, r.requests]).sort()).toEqual([["t0", 6], ["t1", 6]]);
    await instance.close?.();
  });

  it("skips a line longer than any record the gateway writes, unparsed, and tallies the rest", async () => {
    const path = join(dir, "r.jsonl");
    const huge = JSON.stringify(record(0, { tenant: "huge", model: "m".repeat(MAX_RECORD_LINE_BYTES) }));
    await writeFile(path, `${huge}\n${JSON.stringify(record(1, { tenant: "normal" }))}\n${huge}`);
    const { log, lines: logged } = captureLog();
    const { hooks, instance } = await createTestStep(recordJsonl, { path }, { baseDir: dir, log });
    const report = await usageQueries(hooks).promise({ fromMs: 0, toMs: Date.parse("2100-01-01T00:00:00Z"), groupBy: "tenant" }, createTestExchange());
    expect(report!.rows.map((r) => [r.key, r.requests])).toEqual([["normal", 1]]);
    expect(logged.some((l) => l.msg === "usage query skipped lines that are not JSON records" && l.lines === 2)).toBe(true);
    await instance.close?.();
  });

  it("gives the event loop a turn for every chunk it scans, so probes are answered during a big scan", async () => {
    const path = join(dir, "r.jsonl");
    const line = `${JSON.stringify(record(1, { tenant: "t" }))}\n`;
    const lines = Math.ceil((40 * 64 * 1024) / line.length);
    await writeFile(path, line.repeat(lines));
    const { hooks, instance } = await createTestStep(recordJsonl, { path }, { baseDir: dir });
    let turns = 0;
    let scanning = true;
    const tick = () => {
      turns++;
      if (scanning) setImmediate(tick);
    };
    setImmediate(tick);
    const report = await usageQueries(hooks).promise({ fromMs: 0, toMs: Date.parse("2100-01-01T00:00:00Z"), groupBy: "tenant" }, createTestExchange());
    scanning = false;
    expect(report!.rows[0]!.requests).toBe(lines);
    expect(turns).toBeGreaterThanOrEqual(40);
    await instance.close?.();
  });

  it("never double counts a record while writes and queries overlap", async () => {
    const path = join(dir, "r.jsonl");
    const { hooks, instance } = await createTestStep(recordJsonl, { path, batchSize: 3, flushIntervalMs: 1 }, { baseDir: dir });
    const query = { fromMs: 0, toMs: Date.parse("2100-01-01T00:00:00Z"), groupBy: "day" as const };
    for (let i = 0; i < 60; i++) {
      await hooks.record.promise(record(i), createTestExchange());
      if (i % 7 === 0) {
        const report = await usageQueries(hooks).promise(query, createTestExchange());
        expect(report!.rows[0]!.requests).toBe(i + 1);
      }
    }
    await instance.close?.();
  });

  it("fails the load, naming the path, when the file cannot be opened", async () => {
    await writeFile(join(dir, "not-a-dir"), "");
    await expect(createTestStep(recordJsonl, { path: "./not-a-dir/records.jsonl" }, { baseDir: dir })).rejects.toThrow(
      `record-jsonl: cannot open ${join(dir, "not-a-dir/records.jsonl")} for appending`,
    );
  });

  it("rejects bad config", async () => {
    await expect(createTestStep(recordJsonl, {}, { baseDir: dir })).rejects.toThrow('missing required property "path"');
    await expect(createTestStep(recordJsonl, { path: "x", batchSize: 0 }, { baseDir: dir })).rejects.toThrow("/batchSize");
  });
});
