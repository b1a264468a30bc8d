/**
 * Finished requests on their way to the record sinks, off the hot path and in batches: one
 * setImmediate per turn of the event loop for every request that finished in it, not a timer and
 * a promise chain per request. One queue per server, so two servers in one process never wait on
 * each other's sinks at shutdown.
 */
import type { Exchange } from "../contract/exchange.js";
import type { RequestRecord } from "../contract/record.js";
import type { CompiledPipeline } from "./compile.js";

export class RecordQueue {
  private queue: { p: CompiledPipeline; x: Exchange; record: RequestRecord }[] = [];
  /** Batches handed to the sinks and not yet settled, so shutdown can wait for them before sinks flush. */
  private readonly inSinks = new Set<Promise<void>>();
  private flushQueued: Promise<void> | undefined;

  add(p: CompiledPipeline, x: Exchange): void {
    if (p.hooks.record.taps.length === 0) return; // no sink: nothing to build
    this.queue.push({ p, x, record: toRecord(p, x) });
    this.flushQueued ??= new Promise<void>((resolve) => setImmediate(() => resolve(this.flush())));
  }

  /** Resolves once every record added so far reached its sinks (written, or failed and logged). */
  async written(): Promise<void> {
    while (this.flushQueued !== undefined || this.inSinks.size > 0) {
      if (this.flushQueued) await this.flushQueued;
      await Promise.allSettled([...this.inSinks]);
    }
  }

  private flush(): void {
    this.flushQueued = undefined;
    const batch = this.queue;
    this.queue = [];
    const done: Promise<void> = Promise.all(batch.map(({ p, x, record }) => recordOne(p, x, record))).then(() => {
      this.inSinks.delete(done);
    });
    this.inSinks.add(done);
  }
}

/** One record to the sinks; a failing sink (even one that throws at once) never fails the batch. */
function recordOne(p: CompiledPipeline, x: Exchange, record: RequestRecord): Promise<void> {
  const failed = (err: unknown) => p.log.warn({ request: x.id, err: String(err) }, "record failed");
  try {
    return p.hooks.record.promise(record, x).catch(failed);
  } catch (err) {
    failed(err);
    return Promise.resolve();
  }
}

function toRecord(p: CompiledPipeline, x: Exchange): RequestRecord {
  const record: RequestRecord = {
    id: x.id,
    time: new Date(x.startedAt).toISOString(),
    pipeline: p.id,
    route: x.route.path,
    format: x.route.format,
    stream: x.stream,
    status: x.status ?? 500,
    latencyMs: round(performance.now() - x.startedHr),
    costUsd: x.costUsd ?? null,
    attempts: x.attempts.map((a) => ({ ...a, latencyMs: round(a.latencyMs), ...(a.ttfbMs === undefined ? {} : { ttfbMs: round(a.ttfbMs) }) })),
  };
  const optional: Partial<RequestRecord> = {
    tenant: x.tenant, keyId: x.keyId, clientRequestId: x.clientRequestId, backend: x.backend, model: x.model, upstreamModel: x.upstreamModel,
    ttfbMs: x.ttfbMs === undefined ? undefined : round(x.ttfbMs), usage: x.usage, finishReason: x.finishReason, session: x.session, notes: x.notes.length > 0 ? [...x.notes] : undefined,
    cache: x.cache?.status, savedCostUsd: x.cache?.savedCostUsd,
    error: x.error === undefined ? undefined : { type: x.error.type, code: x.error.code, message: x.error.message },
  };
  // Absent rather than undefined: sinks store what is there. (Assigned in place: no pair array or object per key.)
  for (const key in optional) if (optional[key as keyof RequestRecord] !== undefined) (record as unknown as Record<string, unknown>)[key] = optional[key as keyof RequestRecord];
  return record;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
