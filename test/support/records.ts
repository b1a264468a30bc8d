/**
 * Reading a JSONL record file while a gateway may still be appending to it. record-jsonl appends
 * whole lines, one append per batch, but a reader can still catch a batch half way (the kernel
 * copies a write into the page cache a page at a time, and readers see each page as it lands). So
 * only lines that end in "\n" count; the rest after the last "\n" is the next batch arriving and is
 * left for the next look. A whole line that is not JSON is a real fault and fails at once.
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";

export interface RecordsSnapshot {
  /** Every whole line, parsed, in file order. */
  records: any[];
  /** Bytes after the last "\n" (a batch being written); "" when the file ends on a whole line. */
  partial: string;
}

/** The whole records in `path` right now ([] when the file does not exist yet). */
export async function readWholeRecords(path: string): Promise<RecordsSnapshot> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { records: [], partial: "" };
    throw err;
  }
  const end = text.lastIndexOf("\n") + 1;
  const records: any[] = [];
  text
    .slice(0, end)
    .split("\n")
    .forEach((line, index) => {
      if (line === "") return;
      try {
        records.push(JSON.parse(line));
      } catch (err) {
        throw new Error(`${path}: line ${index + 1} ends in a newline but is not JSON (${(err as Error).message}): ${line.slice(0, 200)}`);
      }
    });
  return { records, partial: text.slice(end) };
}

export interface WaitForRecordsOptions {
  /** How long to wait in all. Generous by default: a loaded 2-core machine can delay a flush by seconds. */
  timeoutMs?: number;
  /** What is awaited, for the failure message (e.g. "the record of req-1"). */
  what?: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** Look again at least this often: file events can be coalesced or missed (network and overlay file systems). */
const POLL_MS = 25;

/**
 * Resolves with the whole records once `predicate` holds for them; looks again whenever the file's
 * folder reports a change, and every POLL_MS in any case. Fails after `timeoutMs` with what it saw.
 */
export async function waitForRecords(path: string, predicate: (records: any[]) => boolean, options: WaitForRecordsOptions = {}): Promise<any[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, name) => {
      if (name === null || name === basename(path)) wake?.();
    });
    watcher.on("error", () => watcher?.close());
  } catch {
    // No folder yet, or no watch support here: the polls alone will do.
  }
  try {
    for (;;) {
      const seen = await readWholeRecords(path);
      if (predicate(seen.records)) return seen.records;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(describeTimeout(path, timeoutMs, options.what, seen));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL_MS, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    watcher?.close();
  }
}

/** The record of request `id`, once its whole line is in `path`. */
export async function waitForRecord(path: string, id: string | null | undefined, options: Omit<WaitForRecordsOptions, "what"> = {}): Promise<any> {
  if (!id) throw new Error(`waitForRecord(${path}): no request id given (was the x-switchyard-request-id header missing?)`);
  const records = await waitForRecords(path, (rs) => rs.some((r) => r.id === id), { ...options, what: `the record of request ${id}` });
  return records.find((r) => r.id === id);
}

function describeTimeout(path: string, timeoutMs: number, what: string | undefined, seen: RecordsSnapshot): string {
  const shown = seen.records.slice(-20).map((r) => JSON.stringify({ id: r.id, route: r.route, status: r.status, backend: r.backend, model: r.model }));
  return [
    `waited ${timeoutMs} ms for ${what ?? "records matching the predicate"} in ${path}; saw ${seen.records.length} whole record(s)` +
      (seen.records.length > 20 ? " (last 20 below)" : "") +
      (seen.partial ? ` and a partial line of ${seen.partial.length} chars` : ""),
    ...shown.map((s) => `  ${s}`),
  ].join("\n");
}
