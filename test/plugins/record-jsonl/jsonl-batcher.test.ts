import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JsonlBatcher } from "../../../plugins/record-jsonl/jsonl-batcher.js";
import { captureLog } from "./capture-log.js";
import { WAIT_MS } from "../../support/wait.js";

/** A writer that records each batch and fails while `failing` is true. */
function recordingWriter() {
  const writes: string[] = [];
  const state = { failing: false, calls: 0, inFlight: 0, maxInFlight: 0 };
  const write = async (text: string) => {
    state.calls++;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await new Promise((r) => setImmediate(r));
    state.inFlight--;
    if (state.failing) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    writes.push(text);
  };
  return { writes, state, write };
}

function batcher(overrides: Partial<ConstructorParameters<typeof JsonlBatcher>[0]> = {}) {
  const w = recordingWriter();
  const { log, lines } = captureLog();
  const b = new JsonlBatcher({ write: w.write, batchSize: 3, flushIntervalMs: 1000, maxPendingRecords: 100, log, target: "test.jsonl", ...overrides });
  return { b, ...w, logLines: lines };
}

const line = (n: number) => `{"n":${n}}\n`;

describe("JsonlBatcher", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes a batch in one call as soon as batchSize records wait", async () => {
    const { b, writes } = batcher();
    b.add(line(1));
    b.add(line(2));
    expect(writes).toEqual([]);
    b.add(line(3));
    await vi.waitFor(() => expect(writes).toEqual([line(1) + line(2) + line(3)]), { timeout: WAIT_MS });
    expect(b.pendingRecords).toBe(0);
  });

  it("flush() writes whatever waits, even below batchSize", async () => {
    const { b, writes } = batcher();
    b.add(line(1));
    await b.flush();
    expect(writes).toEqual([line(1)]);
  });

  it("does not write a partial batch before flushIntervalMs, and writes it after", async () => {
    const { b, writes } = batcher();
    b.add(line(1));
    await vi.advanceTimersByTimeAsync(999);
    expect(writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(writes).toEqual([line(1)]), { timeout: WAIT_MS });
  });

  it("never has two writes in flight, however many flushes are asked for", async () => {
    const { b, writes, state } = batcher({ batchSize: 1 });
    for (let i = 0; i < 50; i++) {
      b.add(line(i));
      void b.flush();
      // Let some writes start while more records and flushes pile up behind them.
      if (i % 3 === 0) await new Promise((r) => setImmediate(r));
    }
    await b.close();
    expect(writes.length).toBeGreaterThan(1);
    expect(state.maxInFlight).toBe(1);
    expect(writes.join("")).toBe(Array.from({ length: 50 }, (_, i) => line(i)).join(""));
  });

  it("betweenWrites waits for the write in flight and hands over only the lines not yet written", async () => {
    const written: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const write = async (text: string) => {
      started = true;
      await gate;
      written.push(text);
    };
    const b = new JsonlBatcher({ write, batchSize: 2, flushIntervalMs: 1000, maxPendingRecords: 100, log: captureLog().log, target: "t" });
    b.add(line(1));
    b.add(line(2)); // a full batch: its write starts and hangs on the gate
    await vi.waitFor(() => expect(started).toBe(true), { timeout: WAIT_MS });
    b.add(line(3));
    let cut: { taken: string; waiting: string[] } | undefined;
    const pending = b.betweenWrites(async () => written.join("")).then((c) => (cut = c));
    await new Promise((r) => setImmediate(r));
    expect(cut).toBeUndefined(); // not while the write is in flight
    release();
    await pending;
    // What was written when `take` ran plus what still waits is every line, each once.
    expect(cut).toEqual({ taken: line(1) + line(2), waiting: [line(3)] });
    await b.close();
    expect(written.join("")).toBe(line(1) + line(2) + line(3));
  });

  it("betweenWrites passes a failing take on without blocking later writes", async () => {
    const { b, writes } = batcher();
    await expect(b.betweenWrites(() => Promise.reject(new Error("stat failed")))).rejects.toThrow("stat failed");
    b.add(line(1));
    await b.flush();
    expect(writes).toEqual([line(1)]);
  });

  it("keeps a failed batch and retries it, in order and ahead of newer records, on the next flush", async () => {
    const { b, writes, state, logLines } = batcher();
    state.failing = true;
    b.add(line(1));
    b.add(line(2));
    await b.flush();
    expect(writes).toEqual([]);
    expect(b.pendingRecords).toBe(2);
    expect(logLines.some((l) => l.msg === "record write failed; will retry" && l.code === "ENOSPC" && l.records === 2)).toBe(true);

    state.failing = false;
    b.add(line(3));
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(writes).toEqual([line(1) + line(2) + line(3)]), { timeout: WAIT_MS });
    expect(b.pendingRecords).toBe(0);
    expect(b.droppedRecords).toBe(0);
  });

  it("retries only on the timer while writes fail, not on every full batch", async () => {
    const { b, state } = batcher({ batchSize: 1 });
    state.failing = true;
    b.add(line(1));
    await b.flush();
    expect(state.calls).toBe(1);
    for (let i = 2; i <= 20; i++) b.add(line(i));
    await new Promise((r) => setImmediate(r));
    expect(state.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(state.calls).toBe(2), { timeout: WAIT_MS });
    // The retry took all 20 records in one call and put them back when it failed.
    await vi.waitFor(() => expect(b.pendingRecords).toBe(20), { timeout: WAIT_MS });
    expect(state.calls).toBe(2);
  });

  it("bounds memory while writes fail: drops the oldest beyond maxPendingRecords, counts and logs them", async () => {
    const { b, writes, state, logLines } = batcher({ batchSize: 100, maxPendingRecords: 5 });
    state.failing = true;
    for (let i = 1; i <= 8; i++) b.add(line(i));
    await b.flush();
    expect(b.pendingRecords).toBe(5);
    expect(b.droppedRecords).toBe(3);
    expect(logLines.some((l) => l.dropped === 3 && String(l.msg).includes("oldest records dropped"))).toBe(true);

    state.failing = false;
    await b.flush();
    expect(writes).toEqual([[4, 5, 6, 7, 8].map(line).join("")]);
  });

  it("close() writes everything pending, then drops and logs late records", async () => {
    const { b, writes, logLines } = batcher({ batchSize: 1000 });
    for (let i = 0; i < 10; i++) b.add(line(i));
    await b.close();
    expect(writes.join("").split("\n").filter(Boolean)).toHaveLength(10);
    b.add(line(99));
    expect(b.droppedRecords).toBe(1);
    expect(logLines.some((l) => l.msg === "record arrived after close; dropped")).toBe(true);
  });

  it("close() reports records it could not write instead of throwing", async () => {
    const { b, state, logLines } = batcher();
    state.failing = true;
    b.add(line(1));
    await expect(b.close()).resolves.toBeUndefined();
    expect(b.droppedRecords).toBe(1);
    expect(logLines.some((l) => l.msg === "records lost at close: the final write failed" && l.records === 1)).toBe(true);
  });
});
