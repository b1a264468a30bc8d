/**
 * Where `switchyard simulate` reads recorded requests from: a record-jsonl file, or the table
 * record-postgres writes (`postgres://…`, rows since `--since` selected by Postgres itself).
 * Either way the records come back as the sinks stored them, captured bodies included.
 */
import { readFile } from "node:fs/promises";
import type { StoredRecord } from "../lib/record/postgres-rows.js";
import { RECORD_COLUMNS, recordOfRow, type RecordRow } from "../lib/record/postgres-rows.js";

/** record-postgres's own table pattern: a plain identifier, optionally schema-qualified. */
const TABLE = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

export const isPostgresSource = (source: string): boolean => /^postgres(ql)?:\/\//.test(source);

/** The records at `source` since `sinceMs` (epoch ms; -Infinity for all), oldest first. Throws an Error whose message is safe to print. */
export async function readRecords(source: string, sinceMs: number, table = "switchyard_requests"): Promise<StoredRecord[]> {
  const records = isPostgresSource(source) ? await readPostgres(source, sinceMs, table) : await readJsonl(source);
  return records.filter((r) => Date.parse(r.time) >= sinceMs).sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

async function readJsonl(path: string): Promise<StoredRecord[]> {
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${path}: cannot read it (${err.code ?? err.message})`);
  });
  return text.split("\n").flatMap((line, i) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line) as StoredRecord];
    } catch {
      throw new Error(`${path}:${i + 1}: not a JSON record`);
    }
  });
}

async function readPostgres(url: string, sinceMs: number, table: string): Promise<StoredRecord[]> {
  if (!TABLE.test(table)) throw new Error(`--table "${table}": expected a table name like switchyard_requests or analytics.requests`);
  // Loaded only for a Postgres source: reading a file never pulls in pg.
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // The URL carries a password: errors name the host and database, never the URL itself.
  const where = (() => {
    try {
      const u = new URL(url);
      return `postgres ${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
    } catch {
      return "postgres (unparsable URL)";
    }
  })();
  try {
    await client.connect();
    const quoted = table.split(".").map((part) => `"${part}"`).join(".");
    const since = Number.isFinite(sinceMs) ? new Date(sinceMs).toISOString() : "-infinity";
    const result = await client.query<RecordRow>(`SELECT ${RECORD_COLUMNS.join(", ")} FROM ${quoted} WHERE time >= $1::timestamptz ORDER BY time, id`, [since]);
    return result.rows.map(recordOfRow);
  } catch (err) {
    throw new Error(`${where}, table ${table}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
