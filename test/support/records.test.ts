import { appendFile, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { readWholeRecords, waitForRecord, waitForRecords } from "./records.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "records-helper-"));
});

describe("reading a records file another process appends to", () => {
  it("counts only lines that end in a newline and hands back the half-written rest", async () => {
    const path = join(dir, "r.jsonl");
    await writeFile(path, '{"id":"a"}\n{"id":"b"}\n{"id":"c","usa');
    expect(await readWholeRecords(path)).toEqual({ records: [{ id: "a" }, { id: "b" }], partial: '{"id":"c","usa' });
  });

  it("reads a missing file as no records yet", async () => {
    expect(await readWholeRecords(join(dir, "not-yet.jsonl"))).toEqual({ records: [], partial: "" });
  });

  it("fails at once, naming the line, when a whole line is not JSON", async () => {
    const path = join(dir, "r.jsonl");
    await writeFile(path, '{"id":"a"}\n{"id":\n');
    await expect(readWholeRecords(path)).rejects.toThrow(`${path}: line 2 ends in a newline but is not JSON`);
  });

  it("waits through a half-written line until the record it needs is whole", async () => {
    const path = join(dir, "r.jsonl");
    await writeFile(path, '{"id":"a"}\n{"id":"b","st');
    const waiting = waitForRecord(path, "b", { timeoutMs: 10_000 });
    await appendFile(path, 'atus":200}\n');
    expect(await waiting).toEqual({ id: "b", status: 200 });
  });

  it("fails after its budget with a message listing the records it saw and the partial line", async () => {
    const path = join(dir, "r.jsonl");
    await writeFile(path, '{"id":"a","status":200}\n{"id":"b"');
    await expect(waitForRecords(path, (rs) => rs.length > 5, { timeoutMs: 100, what: "six records" })).rejects.toThrow(
      /waited 100 ms for six records in .*r\.jsonl; saw 1 whole record\(s\) and a partial line of 9 chars\n {2}\{"id":"a","status":200\}/,
    );
  });
});
