import { describe, expect, it } from "vitest";
// @ts-expect-error the bench is plain JavaScript with no type declarations
import { relate, summarize } from "../../bench/measure.mjs";

// `cpu x floor` is taken round by round: floor and target run back to back in each round, so a
// slow phase of the machine that falls on both cancels there, where a ratio of medians taken
// from different rounds keeps it.

const variant = { id: "max", kind: "load", bar: { cpuRatioMin: 0.85 } };
const round = (r: number, cpuUsPerReq: number) => ({ round: r, cpuUsPerReq, rps: 1000, latencyMs: { p50: 1, p99: 2 }, ok: 3000, errors: 0, timeouts: 0, non2xx: 0, mismatches: 0, cpuTicks: 300, cpuBusyPct: 95, stealPct: 0 });
const entry = (name: string, us: number[], rounds = us.map((_, i) => i)) => ({ target: { name }, results: new Map([["max", us.map((u, i) => round(rounds[i]!, u))]]) });
const rowsOf = (floorUs: number[], targetUs: number[], targetRounds?: number[]) => {
  const floorRow = summarize(variant, entry("floor", floorUs));
  const row = summarize(variant, entry("switchyard", targetUs, targetRounds));
  relate(floorRow, floorRow, variant, { smoke: false });
  relate(row, floorRow, variant, { smoke: false });
  return row;
};

describe("bench cpu x floor", () => {
  it("is the median of the per-round ratios, with the ratio of medians beside it", () => {
    // Rounds 1 and 3 ran in a slow phase for both; in round 4 only the target's process was slow.
    const row = rowsOf([100, 300, 100, 300, 100], [110, 330, 110, 330, 330]);
    expect(row.cpuRatio).toBe(0.91);
    expect(row.cpuRatioOfMedians).toBe(0.3);
    expect(row.cpuRounds).toEqual({ 0: 110, 1: 330, 2: 110, 3: 330, 4: 330 });
    expect(row.bar).toEqual({ text: "cpu >=0.85x floor", met: true });
  });

  it("judges the bar on the per-round ratio, so a target slower in most rounds misses", () => {
    const row = rowsOf([100, 100, 100, 100, 100], [125, 125, 125, 90, 90]);
    expect(row.cpuRatio).toBe(0.8);
    expect(row.bar.met).toBe(false);
  });

  it("falls back to the ratio of medians when the rounds do not pair up", () => {
    const row = rowsOf([100, 200, 300], [100, 200, 300], [0, 1, 5]);
    expect(row.cpuRatio).toBe(row.cpuRatioOfMedians);
    expect(row.cpuRatio).toBe(1);
  });
});
