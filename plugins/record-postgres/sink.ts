/**
 * Writes records to Postgres in batches (one multi-row INSERT each), off the request path. When
 * Postgres cannot take a batch, the batch goes to the local spool and the sink counts Postgres as
 * down: later batches go straight to the spool until a periodic replay gets the spool into
 * Postgres again. All database and spool work runs one job at a time on a single chain, so
 * batches, replays and the final flush never race each other. Usage queries wait on that chain
 * for what is buffered or spooled to be written, then read on their own connection.
 */
import pg from "pg";
import { GatewayError, type Logger } from "../../core/index.js";
import type { StoredRecord } from "../../lib/record/postgres-rows.js";
import type { UsageQuery, UsageReport } from "../../lib/usage/report.js";
import { RecordSpool } from "./spool.js";
import { insertSql, migrationSql, usageRowOf, usageSql, type UsageSqlRow } from "./sql.js";

export interface PostgresSinkOptions {
  connectionString: string;
  table: string;
  batchSize: number;
  flushIntervalMs: number;
  retryIntervalMs: number;
  spoolPath: string;
  spoolMaxBytes: number;
  connectTimeoutMs: number;
  poolSize: number;
  log: Logger;
}

const PLUGIN = "record-postgres";

/**
 * An error the server sent about the statement itself (a missing column, a bad table): pg gives
 * it a SQLSTATE. Connection classes (08), shutdown and startup (57P), and resource limits (53)
 * mean the store is unavailable, like a refused or timed-out connection.
 */
function isServerError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P|53)/.test(code);
}

/** What went wrong, without the connection string: pg errors carry a code and a message, never the password. */
const failure = (err: unknown) => ({ code: (err as { code?: unknown })?.code, reason: err instanceof Error ? err.message : String(err) });

export class PostgresRecordSink {
  readonly stats = { inserted: 0, spooled: 0, replayed: 0, dropped: 0 };
  private buffer: StoredRecord[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly pool: pg.Pool;
  private readonly spool: RecordSpool;
  private migrated = false;
  private down = false;
  private retryQueued = false;
  private flushQueued = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly options: PostgresSinkOptions) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection dropped by a server restart surfaces here; the pool replaces it.
    this.pool.on("error", (err) => options.log.warn(failure(err), "record-postgres: idle connection lost"));
    this.spool = new RecordSpool(options.spoolPath, options.spoolMaxBytes);
  }

  async start(): Promise<void> {
    await this.spool.open();
    this.run(async () => {
      try {
        await this.migrate();
      } catch (err) {
        this.markDown(err);
      }
    });
    if (this.spool.pending) this.retry();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.flushIntervalMs, () => void this.flush());
    every(this.options.retryIntervalMs, () => this.retry());
  }

  /** Records buffered and bytes spooled, not yet in Postgres. */
  backlog(): { pendingRecords: number; spooledBytes: number } {
    return { pendingRecords: this.buffer.length, spooledBytes: this.spool.size };
  }

  add(record: StoredRecord): void {
    this.buffer.push(record);
    if (this.buffer.length >= this.options.batchSize) void this.flush();
  }

  /** Writes everything buffered so far (to Postgres, or to the spool). */
  flush(): Promise<void> {
    if (this.buffer.length === 0 || this.flushQueued) return this.chain;
    this.flushQueued = true;
    return this.run(async () => {
      this.flushQueued = false;
      while (this.buffer.length > 0) await this.write(this.buffer.splice(0, this.options.batchSize));
    });
  }

  /**
   * Sums records for the usage API. What is still buffered is written first, and a pending spool
   * replayed, so a request that just finished is counted. While Postgres is unreachable the answer
   * is a 503: a sum without the spooled records would look complete and be short.
   */
  async queryUsage(query: UsageQuery): Promise<UsageReport> {
    await this.flush();
    if (this.down || this.spool.pending) {
      this.retry();
      await this.chain;
    }
    if (this.down) throw this.storeUnavailable();
    let rows: UsageSqlRow[];
    try {
      if (!this.migrated) await this.migrate();
      rows = (await this.pool.query<UsageSqlRow>(usageSql(this.options.table, query))).rows;
    } catch (err) {
      this.options.log.warn(failure(err), "record-postgres: usage query failed");
      if (isServerError(err)) {
        throw new GatewayError({ status: 500, type: "internal", code: "usage_query_failed", message: `record-postgres: the usage query on table ${this.options.table} failed (${(err as { code: string }).code}); see the gateway log`, source: PLUGIN, cause: err });
      }
      throw this.storeUnavailable(err);
    }
    return { rows: rows.map(usageRowOf) };
  }

  /** Flushes, tries the spool once more, and closes the pool. What Postgres still refuses stays in the spool file for the next start. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.flush();
    this.retry();
    await this.chain;
    if (this.spool.pending) this.options.log.error({ spool: this.options.spoolPath }, "record-postgres: Postgres unreachable at shutdown; records stay spooled and are written at the next start");
    await this.pool.end();
  }

  private run(job: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(job).catch((err) => this.options.log.error(failure(err), "record-postgres: job failed"));
    return this.chain;
  }

  private async write(batch: StoredRecord[]): Promise<void> {
    if (!this.down) {
      try {
        await this.insert(batch);
        this.stats.inserted += batch.length;
        return;
      } catch (err) {
        this.markDown(err);
      }
    }
    const dropped = await this.spool.append(batch);
    this.stats.spooled += batch.length - dropped;
    if (dropped > 0) {
      this.stats.dropped += dropped;
      this.options.log.error({ dropped, spool: this.options.spoolPath }, "record-postgres: spool full, records dropped");
    }
  }

  /** Replays the spool, or with nothing spooled just checks whether Postgres is back. */
  private retry(): void {
    if (this.retryQueued || (!this.down && !this.spool.pending)) return;
    this.retryQueued = true;
    void this.run(async () => {
      this.retryQueued = false;
      let replayed = 0;
      let done: boolean;
      if (this.spool.pending) {
        const result = await this.spool.replay(async (batch) => {
          await this.insert(batch);
          replayed += batch.length;
        }, this.options.batchSize);
        done = result.done;
        this.stats.replayed += replayed;
        if (result.unreadable > 0) this.options.log.warn({ unreadable: result.unreadable }, "record-postgres: skipped unreadable spool lines");
      } else {
        done = await (this.migrated ? this.pool.query("SELECT 1") : this.migrate()).then(() => true, () => false);
      }
      if (done && this.down) {
        this.down = false;
        this.options.log.info({ replayed }, "record-postgres: Postgres reachable again, spool replayed");
      }
    });
  }

  private async insert(batch: StoredRecord[]): Promise<void> {
    if (!this.migrated) await this.migrate();
    await this.pool.query(insertSql(this.options.table, batch));
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      for (const sql of migrationSql(this.options.table)) await client.query(sql);
      await client.query("COMMIT");
      client.release();
      this.migrated = true;
    } catch (err) {
      client.release(true);
      throw err;
    }
  }

  private storeUnavailable(cause?: unknown): GatewayError {
    return new GatewayError({
      status: 503,
      type: "unavailable",
      code: "usage_store_unavailable",
      message: "record-postgres: Postgres is unreachable, so usage cannot be summed now; records spooled locally meanwhile are not in Postgres yet and would not be counted. Try again once it is back.",
      source: PLUGIN,
      cause,
    });
  }

  private markDown(err: unknown): void {
    if (!this.down) this.options.log.warn(failure(err), "record-postgres: Postgres unavailable, spooling records locally");
    this.down = true;
  }
}
