/**
 * The usage API over a JSONL file: a full scan, line by line (never the whole file in memory),
 * summed with the core's UsageTally. Fine for a file of days or weeks; a sink with an index
 * (record-postgres) is the answer for years of records.
 */
import type { FileHandle } from "node:fs/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
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

/**
 * Longer than any record the gateway writes (every client string in one is bounded): such a line
 * is skipped unparsed and uncopied, so a file holding huge lines (written before the bounds, or by
 * someone else) costs the scan no more than its reads (issue 11, item 5).
 */
export const MAX_RECORD_LINE_BYTES = 256 * 1024;

export async function scanUsage(input: UsageScanInput): Promise<UsageReport> {
  const tally = new UsageTally(input.query);
  let unreadable = 0;
  const take = (line: string | undefined) => {
    if (line === undefined) unreadable++;
    else if (line.trim() === "") return;
    else {
      try {
        tally.add(JSON.parse(line) as RequestRecord);
      } catch {
        // A line cut short by a crash mid-append, or text someone else put there.
        unreadable++;
      }
    }
  };
  for await (const lines of readLines(input.handle, input.size)) {
    if (input.signal.aborted) break;
    lines.forEach(take);
  }
  for (const line of input.waiting) take(line);
  if (unreadable > 0) input.log.warn({ target: input.target, lines: unreadable }, "usage query skipped lines that are not JSON records");
  return tally.report();
}

const CHUNK_BYTES = 64 * 1024;

/**
 * The first `size` bytes of the file, one chunk's lines at a time (undefined for a line over
 * MAX_RECORD_LINE_BYTES), by positional reads on the sink's own handle. Not a read stream: a
 * stream over a FileHandle closes the handle when it ends, and the sink needs it. Lines are cut
 * on the byte `\n`, which never occurs inside a UTF-8 sequence, and a line's pieces are joined
 * once, when it ends: re-joining a growing line per chunk would cost its length squared.
 */
async function* readLines(handle: FileHandle, size: number): AsyncGenerator<(string | undefined)[]> {
  let pieces: Buffer[] = [];
  let pending = 0; // bytes of the line so far; past the bound its pieces are dropped
  for (let position = 0; position < size; ) {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - position));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break; // truncated (rotated) meanwhile
    position += bytesRead;
    const lines: (string | undefined)[] = [];
    let start = 0;
    for (let end = buffer.indexOf(10, 0); end >= 0 && end < bytesRead; end = buffer.indexOf(10, start)) {
      lines.push(lineOf(pieces, pending, buffer.subarray(start, end)));
      pieces = [];
      pending = 0;
      start = end + 1;
    }
    pending += bytesRead - start;
    pieces = pending > MAX_RECORD_LINE_BYTES ? [] : [...pieces, buffer.subarray(start, bytesRead)];
    yield lines;
    // A turn of the event loop per chunk even when reads come straight from the page cache: probes
    // and requests are answered while a big file is scanned.
    await nextTurn();
  }
  if (pending > 0) yield [lineOf(pieces, pending, Buffer.alloc(0))];
}

function lineOf(pieces: Buffer[], pending: number, last: Buffer): string | undefined {
  if (pending + last.length > MAX_RECORD_LINE_BYTES) return undefined;
  return pieces.length === 0 ? last.toString("utf8") : Buffer.concat([...pieces, last]).toString("utf8");
}
