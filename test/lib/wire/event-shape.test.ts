import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventShape } from "../../../lib/wire/event-shape.js";
import { type JsonScanner } from "../../../lib/wire/json-scan.js";
import { awkwardText, forcedSlow, objectText, textStyle } from "../../plugins/formats/fast-path-support.js";

const DELTA = 1;
const TEXT = 0;
const SEQ = 1;

/** `{"kind":"delta","text":…,"seq":N,…}` in any key order; other keys skipped; a key given twice declined. */
function scanDelta(scan: JsonScanner): number {
  if (!scan.enterObject()) return 0;
  const seen = new Set<string>();
  for (let key = scan.key(); key !== null; key = scan.key()) {
    if (key === undefined) return 0;
    if (key === "kind" || key === "text" || key === "seq") {
      if (seen.has(key)) return 0;
      seen.add(key);
    }
    const ok = key === "kind" ? scan.string() === "delta" : key === "text" ? scan.capture(TEXT) !== undefined : key === "seq" ? scan.captureNumber(SEQ) !== undefined : scan.skip();
    if (!ok) return 0;
  }
  return seen.has("kind") && seen.has("text") ? DELTA : 0;
}

/** What scanDelta decides, read with JSON.parse instead: the oracle. */
function oracle(text: string): { kind: number; text?: string; seq?: number } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 0 };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { kind: 0 };
  const v = value as Record<string, unknown>;
  if (v.kind !== "delta" || typeof v.text !== "string") return { kind: 0 };
  if ("seq" in v && typeof v.seq !== "number") return { kind: 0 };
  return typeof v.seq === "number" ? { kind: DELTA, text: v.text, seq: v.seq } : { kind: DELTA, text: v.text };
}

function counted() {
  let fullReads = 0;
  const shape = new EventShape((scan) => {
    fullReads++;
    return scanDelta(scan);
  });
  const read = (text: string) => {
    const kind = shape.read(text);
    const seq = shape.number(SEQ);
    return kind === 0 ? { kind } : seq === undefined ? { kind, text: shape.text(TEXT) } : { kind, text: shape.text(TEXT), seq };
  };
  return { read, fullReads: () => fullReads };
}

describe("EventShape", () => {
  it("reads an event of the learned envelope without a full read, capturing its new values", () => {
    const { read, fullReads } = counted();
    expect(read('{"kind":"delta","id":"x1","text":"Hel"}')).toEqual({ kind: DELTA, text: "Hel" });
    expect(read('{"kind":"delta","id":"x1","text":"lo \\"you\\"\\n"}')).toEqual({ kind: DELTA, text: 'lo "you"\n' });
    expect(read('{"kind":"delta","id":"x1","text":""}')).toEqual({ kind: DELTA, text: "" });
    expect(fullReads()).toBe(1);
  });

  it("turns a skipped value that changes between events into a hole, so later events still match", () => {
    const { read, fullReads } = counted();
    read('{"kind":"delta","pad":"a","n":1,"text":"a"}');
    read('{"kind":"delta","pad":"bcd","n":2,"text":"b"}');
    expect(fullReads()).toBe(2);
    expect(read('{"kind":"delta","pad":"\\u00e9","n":-3.5e2,"text":"c"}')).toEqual({ kind: DELTA, text: "c" });
    expect(fullReads()).toBe(2);
  });

  it("reads an event of another structure in full, and one whose captured value changed type", () => {
    const { read, fullReads } = counted();
    read('{"kind":"delta","text":"a"}');
    expect(read('{"text":"b","kind":"delta"}')).toEqual({ kind: DELTA, text: "b" });
    expect(fullReads()).toBe(2);
    expect(read('{"text":null,"kind":"delta"}')).toEqual({ kind: 0 });
    expect(read('{"text":7,"kind":"delta"}')).toEqual({ kind: 0 });
    expect(fullReads()).toBe(4);
  });

  it("declines an event of the envelope whose literal parts differ, and keeps a declined read's captures from showing", () => {
    const shape = new EventShape(scanDelta);
    expect(shape.read('{"kind":"delta","text":"a","seq":1}')).toBe(DELTA);
    expect(shape.read('{"kind":"other","text":"b","seq":2}')).toBe(0);
    expect(shape.text(TEXT)).toBeUndefined();
    expect(shape.number(SEQ)).toBeUndefined();
    expect(shape.read('{"kind":"delta","text":"a","seq":1} ')).toBe(DELTA);
    expect(shape.read('{"kind":"delta","text":"a","seq":1}}')).toBe(0);
    expect(shape.read('{"kind":"delta","text":"a","seq":01}')).toBe(0);
    expect(shape.read('{"kind":"delta","text":"a\tb","seq":1}')).toBe(0);
  });

  it("agrees with JSON.parse on every event of generated streams: envelopes, key orders, whitespace, awkward text", () => {
    const extra = fc.tuple(fc.constantFrom("id", "pad", "meta", "n", "flag"), fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.constantFrom("a", "b"), fc.string({ maxLength: 3 }))));
    const event = fc.record({
      kind: fc.constantFrom("delta", "delta", "delta", "other"),
      text: fc.oneof({ weight: 8, arbitrary: awkwardText }, { weight: 1, arbitrary: fc.constant(null) }),
      seq: fc.option(fc.nat(), { nil: undefined }),
      extras: fc.uniqueArray(extra, { maxLength: 3, selector: ([k]) => k }),
      order: fc.nat(),
      style: textStyle,
      damage: fc.option(fc.tuple(fc.nat(), fc.constantFrom("}", '"', ",", "\\", "\u0001", "")), { freq: 8, nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 12 }), fc.nat(3), (events, reorderEvery) => {
        const { read } = counted();
        for (const e of events) {
          const entries: Array<readonly [string, unknown]> = [["kind", e.kind], ["text", e.text], ...(e.seq === undefined ? [] : [["seq", e.seq] as const]), ...e.extras];
          // Most events keep the stream's key order; some move a key, as an upstream change would.
          if (reorderEvery === 0 || e.order % 4 === 0) entries.push(entries.splice(e.order % entries.length, 1)[0]!);
          let text = objectText(entries, e.style);
          if (e.damage !== undefined) {
            const at = e.damage[0] % text.length;
            text = text.slice(0, at) + e.damage[1] + text.slice(at + 1);
          }
          const got = read(text);
          const want = oracle(text);
          // A damaged key may become an escaped one (`"m\ta"`), which the scanner declines by design.
          if (e.damage !== undefined && got.kind === 0 && want.kind !== 0) expect(text).toContain("\\");
          else expect(got).toEqual(want);
        }
      }),
      { numRuns: 600 },
    );
  });

  it("reads an event the fast way only if its full reading would: a rewritten key forces the full read", () => {
    const { read, fullReads } = counted();
    read('{"kind":"delta","text":"a"}');
    expect(read(forcedSlow('{"kind":"delta","text":"b"}'))).toEqual({ kind: 0 });
    expect(fullReads()).toBe(2);
  });
});
