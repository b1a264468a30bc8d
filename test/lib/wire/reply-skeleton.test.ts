/**
 * The skeleton parse against JSON.parse, its reference: on valid JSON it always answers, with every
 * value JSON.parse reads except the long strings, which read as ELIDED; on any text at all,
 * mutated with the bytes that break strings, it answers only where JSON.parse accepts the text,
 * and then agrees with it. replyFactsFromSkeleton hands a finish reason it cannot read back.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ELIDED, ELIDED_FROM_BYTES, parseSkeleton, replyFactsFromSkeleton } from "../../../lib/wire/reply-skeleton.js";

/** Characters that make strings hard: quotes, escapes, controls, text beyond ASCII and beyond the BMP, JSON's own punctuation. */
const HARD = ["a", "b", " ", '"', "\\", "\n", "\t", "\u0001", "\u001f", "é", "—", "😀", "/", "\u2028", "u", "0", "}", ":", ","];
const char = fc.oneof({ weight: 4, arbitrary: fc.constantFrom("x", "y", "z", " ") }, { weight: 1, arbitrary: fc.constantFrom(...HARD) });
/** Short strings, and strings around and past the elision threshold. */
const text = fc.oneof(
  fc.string({ unit: char, maxLength: 12 }),
  fc.string({ unit: char, minLength: ELIDED_FROM_BYTES - 40, maxLength: ELIDED_FROM_BYTES + 400 }),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(text, tie("value")), { maxLength: 4 }).map(toObject),
  ),
}));

/** An object with these keys in order, `__proto__` included as an own key (as JSON.parse makes it). */
function toObject(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
  return out;
}

/** What the skeleton of JSON.stringify(v) reads as: a string is elided when its written form (escapes included) is long. */
function elided(v: unknown): unknown {
  const mark = (s: string) => (Buffer.byteLength(JSON.stringify(s)) - 2 >= ELIDED_FROM_BYTES ? ELIDED : s);
  if (typeof v === "string") return mark(v);
  if (Array.isArray(v)) return v.map(elided);
  if (v !== null && typeof v === "object") return toObject(Object.entries(v).map(([k, item]) => [mark(k), elided(item)]));
  return v;
}

/** Every value of `full` outside an elided string is the skeleton's. */
function agrees(full: unknown, skeleton: unknown): boolean {
  if (skeleton === ELIDED && typeof full === "string") return true;
  if (typeof full !== typeof skeleton || Array.isArray(full) !== Array.isArray(skeleton)) return false;
  if (full === null || typeof full !== "object") return Object.is(full, skeleton);
  const a = full as Record<string, unknown>;
  const b = skeleton as Record<string, unknown>;
  // Long keys collapse into one ELIDED key (the last wins, as in JSON.parse): compare the others.
  const short = (o: Record<string, unknown>) => Object.keys(o).filter((k) => k !== ELIDED && Buffer.byteLength(JSON.stringify(k)) - 2 < ELIDED_FROM_BYTES);
  const keys = short(a);
  return keys.length === short(b).length && keys.every((k) => Object.hasOwn(b, k) && agrees(a[k], b[k]));
}

const MUTATIONS = ['"', "\\", "\u0001", "\n", "x", "\\u12", "\\q", "\\u00zz", "}", "]", ",", "é"];

describe("parseSkeleton", () => {
  it("reads every valid JSON text, as JSON.parse does but for its long strings", () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, indent) => {
        const raw = Buffer.from(JSON.stringify(v, null, indent ? 1 : undefined));
        expect(parseSkeleton(raw)).toEqual(elided(JSON.parse(raw.toString("utf8"))));
      }),
      { numRuns: 3000 },
    );
  });

  it("answers only where JSON.parse accepts the text, and then as it reads it; never falls back on valid JSON", () => {
    const mutation = fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...MUTATIONS), fc.constant(null)));
    fc.assert(
      fc.property(value, fc.array(mutation, { minLength: 1, maxLength: 3 }), (v, mutations) => {
        let written = JSON.stringify(v);
        for (const [at, insert] of mutations) {
          const i = at % (written.length + 1);
          written = insert === null ? written.slice(0, i) + written.slice(i + 1) : written.slice(0, i) + insert + written.slice(i);
        }
        const raw = Buffer.from(written);
        let full: unknown;
        try {
          full = JSON.parse(raw.toString("utf8"));
        } catch {
          expect(parseSkeleton(raw)).toBeUndefined();
          return;
        }
        const skeleton = parseSkeleton(raw);
        expect(skeleton).not.toBeUndefined();
        expect(agrees(full, skeleton)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it("reads bytes that are not UTF-8 as JSON.parse reads their decoding", () => {
    const long = "ab".repeat(ELIDED_FROM_BYTES);
    const cases = [
      Buffer.concat([Buffer.from(`{"a":"${long}`), Buffer.from([0xff, 0xc3]), Buffer.from('","b":1}')]), // inside a long string: valid as U+FFFD
      Buffer.concat([Buffer.from('{"a":"x'), Buffer.from([0xe2]), Buffer.from('","b":1}')]), // inside a short one
      Buffer.concat([Buffer.from(`{"a":"${long}"`), Buffer.from([0xff]), Buffer.from(',"b":1}')]), // outside strings: invalid
    ];
    for (const raw of cases) {
      let full: unknown;
      try {
        full = JSON.parse(raw.toString("utf8"));
      } catch {
        expect(parseSkeleton(raw)).toBeUndefined();
        continue;
      }
      expect(agrees(full, parseSkeleton(raw))).toBe(true);
      expect((parseSkeleton(raw) as { b: number }).b).toBe(1);
    }
  });

  it("leaves a reply over 1 MiB to the full parse", () => {
    const raw = Buffer.from(JSON.stringify({ text: "x".repeat(1 << 20) }));
    expect(parseSkeleton(raw)).toBeUndefined();
    expect(parseSkeleton(Buffer.from(JSON.stringify({ text: "x".repeat((1 << 20) - 20) })))).toEqual({ text: ELIDED });
  });
});

describe("replyFactsFromSkeleton", () => {
  const usageOf = (body: unknown) => {
    const usage = (body as { usage?: { in?: unknown; out?: unknown } }).usage;
    return typeof usage?.in === "number" && typeof usage.out === "number" ? { inputTokens: usage.in, outputTokens: usage.out } : undefined;
  };
  const finishReasonOf = (body: unknown) => (body as { finish?: string }).finish;
  const prose = Array.from({ length: 200 }, (_, i) => `Line ${i}: "quoted" ünïcödé — and a tab\there.`).join("\n");

  it("reads usage and the finish reason past long text", () => {
    const raw = Buffer.from(JSON.stringify({ text: prose, finish: "stop", usage: { in: 12, out: 3456 } }));
    expect(replyFactsFromSkeleton(raw, usageOf, finishReasonOf)).toEqual({ usage: { inputTokens: 12, outputTokens: 3456 }, finishReason: "stop" });
  });

  it("hands back a finish reason long enough to be elided: only the full parse reads it", () => {
    const raw = Buffer.from(JSON.stringify({ text: prose, finish: "r".repeat(ELIDED_FROM_BYTES), usage: { in: 1, out: 2 } }));
    expect(replyFactsFromSkeleton(raw, usageOf, finishReasonOf)).toBeUndefined();
  });

  it("hands back a reply that is not JSON", () => {
    const raw = Buffer.from(`{"text":"${"a".repeat(ELIDED_FROM_BYTES)}\\x","usage":{"in":1,"out":2}}`);
    expect(replyFactsFromSkeleton(raw, usageOf, finishReasonOf)).toBeUndefined();
  });
});
