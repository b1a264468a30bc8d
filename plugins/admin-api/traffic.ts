/**
 * What admin-api counts of its pipeline's traffic, cheaply on the request path: per backend the
 * attempts in flight and the latencies of the last few (a ring), and per minute the requests
 * finished and how many of them failed (status 400 or more; refusals count: they are what a
 * client saw). Other pipelines' admin-api steps answer the same question on their own hooks.
 */
import type { AsyncSeriesBailHook } from "tapable";
import type { Exchange, PipelineHooks } from "../../core/index.js";

const MINUTE_MS = 60_000;

export interface BackendTraffic {
  inFlight: number;
  /** Over the last `samples` attempts; null before the first. */
  latencyMs: { p50: number; p95: number; last: number } | null;
  samples: number;
  failures: number;
}

export interface TrafficSnapshot {
  backends: Record<string, BackendTraffic>;
  /** Oldest first, one per minute of the window (empty minutes included), `minute` the ISO start. */
  minutes: { minute: string; requests: number; errors: number }[];
}

class LatencyRing {
  readonly values: number[] = [];
  private next = 0;
  inFlight = 0;
  failures = 0;

  constructor(private readonly size: number) {}

  add(ms: number): void {
    if (this.values.length < this.size) this.values.push(ms);
    else this.values[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  last(): number | undefined {
    return this.values[(this.next - 1 + this.size) % this.size];
  }
}

export class TrafficCounter {
  private readonly backends = new Map<string, LatencyRing>();
  /** Minute number (epoch ms / 60000) -> counts; at most `minutes` kept. */
  private readonly perMinute = new Map<number, { requests: number; errors: number }>();

  constructor(
    private readonly minutes: number,
    private readonly samples: number,
    private readonly now: () => number = Date.now,
  ) {}

  attemptStarted(backend: string): void {
    this.ring(backend).inFlight++;
  }

  attemptFinished(backend: string, latencyMs: number, failed: boolean): void {
    const ring = this.ring(backend);
    ring.inFlight = Math.max(0, ring.inFlight - 1);
    ring.add(latencyMs);
    if (failed) ring.failures++;
  }

  requestFinished(status: number): void {
    const minute = Math.floor(this.now() / MINUTE_MS);
    let counts = this.perMinute.get(minute);
    if (!counts) {
      this.perMinute.set(minute, (counts = { requests: 0, errors: 0 }));
      for (const m of this.perMinute.keys()) if (m <= minute - this.minutes) this.perMinute.delete(m);
    }
    counts.requests++;
    if (status >= 400) counts.errors++;
  }

  snapshot(): TrafficSnapshot {
    const backends: Record<string, BackendTraffic> = {};
    for (const [id, ring] of this.backends) {
      const sorted = [...ring.values].sort((a, b) => a - b);
      const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
      backends[id] = { inFlight: ring.inFlight, latencyMs: sorted.length === 0 ? null : { p50: at(0.5), p95: at(0.95), last: Math.round(ring.last()!) }, samples: sorted.length, failures: ring.failures };
    }
    const current = Math.floor(this.now() / MINUTE_MS);
    const minutes = [];
    for (let m = current - this.minutes + 1; m <= current; m++) {
      const counts = this.perMinute.get(m) ?? { requests: 0, errors: 0 };
      minutes.push({ minute: new Date(m * MINUTE_MS).toISOString(), ...counts });
    }
    return { backends, minutes };
  }

  private ring(backend: string): LatencyRing {
    let ring = this.backends.get(backend);
    if (!ring) this.backends.set(backend, (ring = new LatencyRing(this.samples)));
    return ring;
  }
}

function trafficQueries(hooks: PipelineHooks): AsyncSeriesBailHook<[undefined, Exchange | undefined], TrafficSnapshot | undefined> {
  return hooks.query.for("admin-traffic") as unknown as AsyncSeriesBailHook<[undefined, Exchange | undefined], TrafficSnapshot | undefined>;
}

/** The traffic an admin-api step of that pipeline counted; undefined when it has none. */
export function askTraffic(hooks: PipelineHooks): Promise<TrafficSnapshot | undefined> {
  return trafficQueries(hooks).promise(undefined, undefined);
}

export function answerTraffic(hooks: PipelineHooks, step: string, counter: TrafficCounter): void {
  trafficQueries(hooks).tap(step, () => counter.snapshot());
}
