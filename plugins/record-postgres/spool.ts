/**
 * A bounded local spool of records that could not be written to Postgres: JSON lines in a file,
 * replayed later. Replay first renames the file aside (`<path>.replay`), so records spooled while
 * it runs land in a fresh file, and a replay cut short by a crash is picked up at the next start
 * (the INSERT skips ids already stored, so a record is never stored twice).
 */
import { createReadStream } from "node:fs";
import { appendFile, mkdir, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { StoredRecord } from "../../lib/record/postgres-rows.js";

const sizeOf = (path: string) => stat(path).then((s) => s.size, () => 0);

export class RecordSpool {
  private bytes = 0;
  private replayBytes = 0;
  readonly replayPath: string;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
  ) {
    this.replayPath = `${path}.replay`;
  }

  async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.bytes = await sizeOf(this.path);
    this.replayBytes = await sizeOf(this.replayPath);
  }

  /** Bytes waiting to be replayed (the spool and a replay under way). */
  get size(): number {
    return this.bytes + this.replayBytes;
  }

  /** Whether anything waits to be replayed. */
  get pending(): boolean {
    return this.bytes > 0 || this.replayBytes > 0;
  }

  /** Appends what fits under the bound; returns how many records did not fit (dropped). */
  async append(records: readonly StoredRecord[]): Promise<number> {
    let text = "";
    let kept = 0;
    for (const record of records) {
      const line = JSON.stringify(record) + "\n";
      const size = Buffer.byteLength(line);
      if (this.bytes + this.replayBytes + Buffer.byteLength(text) + size > this.maxBytes) break;
      text += line;
      kept++;
    }
    if (text) {
      await appendFile(this.path, text);
      this.bytes += Buffer.byteLength(text);
    }
    return records.length - kept;
  }

  /**
   * Feeds spooled records to `insert` in batches. Stops at the first failing batch and puts it and
   * everything after it back. Returns true when the spool is empty afterwards, and the count of
   * unreadable lines (a line cut short by a crash) that were skipped.
   */
  async replay(insert: (batch: StoredRecord[]) => Promise<void>, batchSize: number): Promise<{ done: boolean; unreadable: number }> {
    if (this.replayBytes === 0) {
      if (this.bytes === 0) return { done: true, unreadable: 0 };
      await rename(this.path, this.replayPath);
      this.replayBytes = this.bytes;
      this.bytes = 0;
    }
    let unreadable = 0;
    let batch: StoredRecord[] = [];
    let failed = false;
    const leftover: string[] = [];
    const lines = createInterface({ input: createReadStream(this.replayPath), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === "") continue;
      if (failed) {
        leftover.push(line);
        continue;
      }
      try {
        batch.push(JSON.parse(line) as StoredRecord);
      } catch {
        unreadable++;
        continue;
      }
      if (batch.length >= batchSize) {
        failed = !(await insert(batch).then(() => true, () => false));
        if (failed) leftover.push(...batch.map((r) => JSON.stringify(r)));
        batch = [];
      }
    }
    if (!failed && batch.length > 0) {
      failed = !(await insert(batch).then(() => true, () => false));
      if (failed) leftover.push(...batch.map((r) => JSON.stringify(r)));
    }
    if (leftover.length > 0) {
      // Put back unconditionally: these were inside the bound when first spooled.
      const text = leftover.join("\n") + "\n";
      await appendFile(this.path, text);
      this.bytes += Buffer.byteLength(text);
    }
    await unlink(this.replayPath).catch(() => undefined);
    this.replayBytes = 0;
    return { done: !failed && this.bytes === 0, unreadable };
  }
}
