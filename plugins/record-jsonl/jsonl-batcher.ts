/**
 * Batches JSON lines and hands them to one writer, one batch at a time. Kept apart from the file
 * so the failure and retry rules can be exercised with a writer that fails on purpose.
 *
 * Why a chain and not a lock: every flush is appended to one promise chain, so at most one write
 * is in flight and lines from two batches can never interleave, whatever the callers do.
 */
import type { Logger } from "../../core/index.js";

export interface JsonlBatcherOptions {
  /** Writes one batch (complete lines); rejects on failure. */
  write(text: string): Promise<void>;
  batchSize: number;
  flushIntervalMs: number;
  maxPendingRecords: number;
  log: Logger;
  /** Names the destination in log lines. */
  target: string;
}

export class JsonlBatcher {
  private pending: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** A flush that is queued but has not taken its batch yet: later adds ride along with it. */
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** After a failed write only the timer retries: a full batch must not hammer a broken disk at request rate. */
  private lastWriteFailed = false;
  private dropped = 0;
  private droppedUnlogged = 0;

  constructor(private readonly options: JsonlBatcherOptions) {}

  /** Records waiting to be written. */
  get pendingRecords(): number {
    return this.pending.length;
  }

  /** Records dropped so far (over maxPendingRecords while writes failed, or after close). */
  get droppedRecords(): number {
    return this.dropped;
  }

  /** Queues one line (which must end in "\n"). Never throws, never waits for the disk. */
  add(line: string): void {
    if (this.closed) {
      this.dropped++;
      this.options.log.warn({ target: this.options.target }, "record arrived after close; dropped");
      return;
    }
    this.pending.push(line);
    this.trim();
    if (this.pending.length >= this.options.batchSize && !this.lastWriteFailed) void this.flush();
    else this.schedule();
  }

  /** Writes everything waiting now; resolves when written or failed (failures are logged, kept and retried). */
  flush(): Promise<void> {
    if (this.queued) return this.queued;
    this.clearTimer();
    const run = this.chain.then(() => {
      this.queued = undefined;
      return this.writePending();
    });
    this.queued = run;
    this.chain = run;
    return run;
  }

  /**
   * Runs `take` while no write is in flight and hands back its result with the lines waiting at
   * that moment. Whatever `take` sees of the destination plus those lines is every line added so
   * far, each exactly once: the usage query's consistent cut. Keep `take` short (a stat): writes
   * wait behind it.
   */
  betweenWrites<T>(take: () => Promise<T>): Promise<{ taken: T; waiting: string[] }> {
    const run = this.chain.then(async () => ({ taken: await take(), waiting: [...this.pending] }));
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Flushes what is waiting and refuses new lines. Logs (never throws) what could not be written. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    await this.flush();
    if (this.pending.length > 0) {
      this.options.log.error({ target: this.options.target, records: this.pending.length }, "records lost at close: the final write failed");
      this.dropped += this.pending.length;
      this.pending = [];
    }
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.options.write(batch.join(""));
      this.lastWriteFailed = false;
    } catch (err) {
      this.lastWriteFailed = true;
      // Put the batch back in front of what arrived meanwhile, so order is kept on retry.
      this.pending = batch.concat(this.pending);
      this.trim();
      const e = err as NodeJS.ErrnoException;
      this.options.log.error(
        { target: this.options.target, records: batch.length, code: e.code, error: e.message },
        "record write failed; will retry",
      );
      if (!this.closed) this.schedule();
    }
    if (this.droppedUnlogged > 0) {
      this.options.log.error(
        { target: this.options.target, dropped: this.droppedUnlogged, droppedTotal: this.dropped },
        `over maxPendingRecords (${this.options.maxPendingRecords}): oldest records dropped`,
      );
      this.droppedUnlogged = 0;
    }
  }

  private trim(): void {
    const excess = this.pending.length - this.options.maxPendingRecords;
    if (excess <= 0) return;
    this.pending.splice(0, excess);
    this.dropped += excess;
    this.droppedUnlogged += excess;
  }

  private schedule(): void {
    if (this.timer || this.queued || this.pending.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.flushIntervalMs);
    // Shutdown flushes through close(); a pending timer must not keep the process alive.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
