/**
 * Arm statistics in the pipeline's store: per context and arm, a decayed count of observations
 * and a decayed sum of their rewards. Decay by half-life is done with time buckets (of requests
 * or milliseconds) rather than by rewriting totals: each observation is an atomic `add` into the
 * current bucket, and a read weighs each bucket by 0.5^(age / half-life). Adds commute, so any
 * number of instances can count into one Redis without losing an increment.
 *
 * The store's counters are integers in spirit (the contract promises no float adds), so counts
 * and reward sums are kept in thousandths (SCALE): a reward of 0.7317 counts as 732.
 * Counters are read with `add(key, 0)`: the contract's `get` reads values, not counters.
 */
import type { StateStore } from "../../core/index.js";

export const SCALE = 1000;

/** Buckets are half a half-life wide; nine of them reach four half-lives back, where weights fall under 1/16. */
const BUCKETS_READ = 9;

export interface HalfLife {
  unit: "requests" | "ms";
  amount: number;
}

/** An arm's decayed evidence, in observations (not thousandths). */
export interface ArmEvidence {
  /** Observations, each weighted by its share of the blend and its age. */
  n: number;
  /** Their rewards' sum; never above n. */
  s: number;
}

interface CachedContext {
  readAt: number;
  arms: Map<string, ArmEvidence>;
}

export class ArmStats {
  private readonly bucketWidth: number;
  private readonly cache = new Map<string, CachedContext>();

  constructor(
    private readonly store: StateStore,
    private readonly prefix: string,
    private readonly halfLife: HalfLife,
    private readonly retainMs: number,
    private readonly refreshMs: number,
    private readonly now: () => number,
  ) {
    this.bucketWidth = Math.max(1, Math.floor(halfLife.amount / 2));
  }

  private key(context: string, arm: string, bucket: number, counter: "n" | "s"): string {
    return `${this.prefix}${context}|${arm}|${bucket}|${counter}`;
  }

  private sequenceKey(context: string): string {
    return `${this.prefix}${context}|seq`;
  }

  /** Where the context stands on the half-life's axis: its finished attempts, or the clock. */
  position(context: string): Promise<number> {
    return this.halfLife.unit === "ms" ? Promise.resolve(this.now()) : this.store.add(this.sequenceKey(context), 0, this.retainMs);
  }

  /** The position for a new observation: one request further on, or now. */
  private advance(context: string): Promise<number> {
    return this.halfLife.unit === "ms" ? Promise.resolve(this.now()) : this.store.add(this.sequenceKey(context), 1, this.retainMs);
  }

  /**
   * Counts one observation of `arm` in `context`: `weight` (its share of the blend, 0..1) and
   * `reward` (0..1). `advance` false counts it at the current position without moving it
   * (explicit feedback, which is a second look at a request already counted).
   */
  async observe(context: string, arm: string, weight: number, reward: number, advance = true): Promise<void> {
    const position = advance ? await this.advance(context) : await this.position(context);
    const bucket = Math.floor(position / this.bucketWidth);
    const n = Math.round(weight * SCALE);
    const s = Math.min(n, Math.round(weight * reward * SCALE));
    await Promise.all([
      this.store.add(this.key(context, arm, bucket, "n"), n, this.retainMs),
      this.store.add(this.key(context, arm, bucket, "s"), s, this.retainMs),
    ]);
    // This instance's own observation counts at once, even while the cache is otherwise still fresh.
    const cached = this.cache.get(context)?.arms.get(arm);
    if (cached) {
      cached.n += n / SCALE;
      cached.s += s / SCALE;
    }
  }

  /** Each arm's decayed evidence in `context`, from the cache while it is fresh, else from the store. */
  async evidence(context: string, arms: readonly string[]): Promise<Map<string, ArmEvidence>> {
    const cached = this.cache.get(context);
    const t = this.now();
    if (cached && this.refreshMs > 0 && t - cached.readAt < this.refreshMs && arms.every((arm) => cached.arms.has(arm))) return cached.arms;
    const position = await this.position(context);
    const current = Math.floor(position / this.bucketWidth);
    const buckets = Array.from({ length: BUCKETS_READ }, (_, i) => current - i).filter((b) => b >= 0);
    const read = await Promise.all(
      arms.map(async (arm) => {
        const counts = await Promise.all(
          buckets.flatMap((b) => [this.store.add(this.key(context, arm, b, "n"), 0, this.retainMs), this.store.add(this.key(context, arm, b, "s"), 0, this.retainMs)]),
        );
        let n = 0;
        let s = 0;
        buckets.forEach((b, i) => {
          // Age from the bucket's middle; the current bucket counts in full.
          const age = Math.max(0, position - (b + 0.5) * this.bucketWidth);
          const weight = Math.pow(0.5, age / this.halfLife.amount);
          n += weight * counts[2 * i]!;
          s += weight * Math.min(counts[2 * i]!, counts[2 * i + 1]!);
        });
        return [arm, { n: n / SCALE, s: s / SCALE }] as const;
      }),
    );
    const arms_ = new Map(read);
    this.cache.set(context, { readAt: t, arms: arms_ });
    return arms_;
  }
}
