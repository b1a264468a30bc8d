/**
 * The usage API over a JSONL file: a full scan, line by line (never the whole file in memory),
 * summed with the core's UsageTally. Fine for a file of days or weeks; a sink with an index
 * (record-postgres) is the answer for years of records.
 */
import type { FileHandle } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { UsageTally } from "../../lib/usage/tally.js";
import type { Logger, RequestRecord } from "../../core/index.js";
import type { UsageQuery, UsageReport } from "../../lib/usage/report.js";

export interface UsageScanInput {
  /** The sink's own handle (opened for reading too), so a file renamed away is still the one read. */
  handle: FileHandle;
  /** Read only this many bytes: the file's size when the lines still waiting were taken. */
  size: number;
  /** Lines not yet written. */
  waiting: readonly string[];
  query: UsageQuery;
  /** Aborted when the asker goes away: the scan stops. */
  signal: AbortSignal;
  log: Logger;
  target: string;
}

export async function scanUsage(input: UsageScanInput): Promise<UsageReport> {
  const tally = new UsageTally(input.query);
  let unreadable = 0;
  const take = (line: string) => {
    if (line.trim() === "") return;
    try {
      tally.add(JSON.parse(line) as RequestRecord);
    } catch {
      // A line cut short by a crash mid-append, or text someone else put there.
      unreadable++;
    }
  };
  for await (const line of readLines(input.handle, input.size)) {
    if (input.signal.aborted) break;
    take(line);
  }
  for (const line of input.waiting) take(line);
  if (unreadable > 0) input.log.warn({ target: input.target, lines: unreadable }, "usage query skipped lines that are not JSON records");
  return tally.report();
}

const CHUNK_BYTES = 64 * 1024;

/**
 * The first `size` bytes of the file as lines, by positional reads on the sink's own handle. Not
 * a read stream: a stream over a FileHandle closes the handle when it ends, and the sink needs it.
 */
async function* readLines(handle: FileHandle, size: number): AsyncGenerator<string> {
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  const decoder = new StringDecoder("utf8");
  let rest = "";
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, size - position), position);
    if (bytesRead === 0) break; // truncated (rotated) meanwhile
    position += bytesRead;
    const lines = (rest + decoder.write(buffer.subarray(0, bytesRead))).split("\n");
    rest = lines.pop()!;
    yield* lines;
  }
  rest += decoder.end();
  if (rest !== "") yield rest;
}
