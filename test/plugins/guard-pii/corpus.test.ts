/**
 * The detectors against a labelled corpus of positives and look-alike negatives
 * (test/fixtures/pii/*.jsonl): precision and recall per kind, printed and held above a floor.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectPii, PII_KINDS, type PiiKind } from "../../../plugins/guard-pii/detectors.js";

interface Sample {
  text: string;
  kinds: PiiKind[];
}

const load = (file: string): Sample[] =>
  readFileSync(join(import.meta.dirname, "../../fixtures/pii", file), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Sample);

const PRECISION_FLOOR = 0.95;
const RECALL_FLOOR = 0.95;

describe("guard-pii corpus", () => {
  const samples = [...load("positives.jsonl"), ...load("negatives.jsonl")];

  it("detects the labelled kinds with precision and recall above the floor", () => {
    const stats = new Map<PiiKind, { tp: number; fp: number; fn: number }>(PII_KINDS.map((k) => [k, { tp: 0, fp: 0, fn: 0 }]));
    const misses: string[] = [];
    for (const sample of samples) {
      const found = new Set(detectPii(sample.text).map((m) => m.kind));
      for (const kind of PII_KINDS) {
        const s = stats.get(kind)!;
        const expected = sample.kinds.includes(kind);
        if (expected && found.has(kind)) s.tp++;
        else if (expected) {
          s.fn++;
          misses.push(`missed ${kind}: ${sample.text.slice(0, 80)}`);
        } else if (found.has(kind)) {
          s.fp++;
          misses.push(`false ${kind}: ${sample.text.slice(0, 80)}`);
        }
      }
    }
    const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);
    const total = { tp: 0, fp: 0, fn: 0 };
    const lines = [`guard-pii corpus: ${samples.length} samples`, "kind          precision  recall   tp  fp  fn"];
    for (const [kind, s] of stats) {
      total.tp += s.tp;
      total.fp += s.fp;
      total.fn += s.fn;
      lines.push(`${kind.padEnd(12)}  ${ratio(s.tp, s.tp + s.fp).toFixed(3).padStart(9)}  ${ratio(s.tp, s.tp + s.fn).toFixed(3).padStart(6)}  ${String(s.tp).padStart(3)} ${String(s.fp).padStart(3)} ${String(s.fn).padStart(3)}`);
    }
    const precision = ratio(total.tp, total.tp + total.fp);
    const recall = ratio(total.tp, total.tp + total.fn);
    lines.push(`${"all".padEnd(12)}  ${precision.toFixed(3).padStart(9)}  ${recall.toFixed(3).padStart(6)}  ${String(total.tp).padStart(3)} ${String(total.fp).padStart(3)} ${String(total.fn).padStart(3)}`);
    console.log([...lines, ...misses].join("\n"));
    expect(precision).toBeGreaterThanOrEqual(PRECISION_FLOOR);
    expect(recall).toBeGreaterThanOrEqual(RECALL_FLOOR);
    for (const [kind, s] of stats) {
      expect(ratio(s.tp, s.tp + s.fp), `${kind} precision`).toBeGreaterThanOrEqual(0.9);
      expect(ratio(s.tp, s.tp + s.fn), `${kind} recall`).toBeGreaterThanOrEqual(0.9);
    }
  });
});
