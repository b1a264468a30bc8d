import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../../core/index.js";
import { RecordSpool } from "../../../plugins/record-postgres/spool.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-spool-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rec = (i: number) => ({ id: `r${i}`, time: "2025-01-01T00:00:00.000Z", pipeline: "p", route: "r", format: "f", stream: false, status: 200, latencyMs: 1, costUsd: null, attempts: [] }) as RequestRecord;

describe("record-postgres spool", () => {
  it("a replay that fails part-way puts the rest back, and the next replay finishes it", async () => {
    const spool = new RecordSpool(join(dir, "s.jsonl"), 1 << 20);
    await spool.open();
    await spool.append(Array.from({ length: 10 }, (_, i) => rec(i)));
    const stored: string[] = [];
    let calls = 0;
    const flaky = async (batch: RequestRecord[]) => {
      if (++calls === 2) throw new Error("connection lost");
      stored.push(...batch.map((r) => r.id));
    };
    expect(await spool.replay(flaky, 3)).toEqual({ done: false, unreadable: 0 });
    expect(stored).toEqual(["r0", "r1", "r2"]);
    expect(spool.pending).toBe(true);
    expect(await spool.replay(flaky, 3)).toEqual({ done: true, unreadable: 0 });
    expect(stored.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`).sort());
    expect(spool.pending).toBe(false);
  });

  it("picks up a replay file left by a crash and skips a line cut short", async () => {
    const path = join(dir, "s.jsonl");
    await appendFile(`${path}.replay`, JSON.stringify(rec(1)) + "\n" + '{"id":"r2","ti');
    await appendFile(path, JSON.stringify(rec(3)) + "\n");
    const spool = new RecordSpool(path, 1 << 20);
    await spool.open();
    const stored: string[] = [];
    const insert = async (batch: RequestRecord[]) => void stored.push(...batch.map((r) => r.id));
    expect(await spool.replay(insert, 10)).toEqual({ done: false, unreadable: 1 });
    expect(await spool.replay(insert, 10)).toEqual({ done: true, unreadable: 0 });
    expect(stored).toEqual(["r1", "r3"]);
  });

  it("keeps within its byte bound and reports what it dropped", async () => {
    const line = Buffer.byteLength(JSON.stringify(rec(0)) + "\n");
    const spool = new RecordSpool(join(dir, "s.jsonl"), line * 3);
    await spool.open();
    expect(await spool.append([rec(0), rec(1)])).toBe(0);
    expect(await spool.append([rec(2), rec(3), rec(4)])).toBe(2);
  });
});
