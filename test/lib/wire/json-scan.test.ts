import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonScanner } from "../../../lib/wire/json-scan.js";

const RUNS = { numRuns: 300 };
const scanner = new JsonScanner();

/** JSON values whose keys need no escapes (the scanner declines escaped keys by design). */
const plainKey = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz_0123456789é中"), maxLength: 8 });
const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string({ unit: "binary", maxLength: 10 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(plainKey, tie("value"), { maxKeys: 4 }),
  ),
})).value;

function accepts(text: string): boolean {
  return scanner.reset(text).skip() && scanner.end();
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A string literal for `text`, each character written raw, as \uXXXX (either case) or as its short escape. */
function literalOf(text: string, choices: number[]): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const choice = choices[i % Math.max(1, choices.length)] ?? 0;
    const mustEscape = c < 0x20 || c === 0x22 || c === 0x5c;
    if (choice === 1 || (mustEscape && choice === 0)) {
      const hex = c.toString(16).padStart(4, "0");
      out += `\\u${i % 2 === 0 ? hex : hex.toUpperCase()}`;
    } else if (choice === 2 && c === 0x2f) out += "\\/";
    else if (mustEscape || choice === 2) out += JSON.stringify(text[i]).slice(1, -1);
    else out += text[i];
  }
  return `${out}"`;
}

describe("JsonScanner", () => {
  it("accepts every value JSON.stringify writes, compact or indented", () => {
    fc.assert(
      fc.property(jsonValue, fc.constantFrom(undefined, 1, "\t"), (value, indent) => {
        expect(accepts(JSON.stringify(value, null, indent))).toBe(true);
      }),
      RUNS,
    );
  });

  it("accepts nothing JSON.parse rejects (randomly damaged JSON)", () => {
    const damage = fc.tuple(jsonValue, fc.array(fc.tuple(fc.nat(), fc.constantFrom("insert", "delete", "replace"), fc.constantFrom(..."{}[]:,\"\\ \t\n0-.eE+natrufls1\u0000\u001fu")), { minLength: 1, maxLength: 3 }));
    fc.assert(
      fc.property(damage, ([value, edits]) => {
        let text = JSON.stringify(value);
        for (const [at, op, ch] of edits) {
          const i = text.length === 0 ? 0 : at % text.length;
          text = op === "insert" ? text.slice(0, i) + ch + text.slice(i) : op === "delete" ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + ch + text.slice(i + 1);
        }
        if (accepts(text)) expect(parses(text)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("decodes every string literal exactly as JSON.parse does, whatever escapes it uses", () => {
    const text = fc.oneof(fc.string({ unit: "binary", maxLength: 16 }), fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 16 }).map((codes) => String.fromCharCode(...codes)));
    fc.assert(
      fc.property(text, fc.array(fc.constantFrom(0, 1, 2), { maxLength: 5 }), (value, choices) => {
        const literal = literalOf(value, choices);
        expect(scanner.reset(literal).string()).toBe(JSON.parse(literal));
        expect(scanner.end()).toBe(true);
      }),
      RUNS,
    );
  });

  it("reads numbers exactly as JSON.parse does", () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()), (n) => {
        const text = JSON.stringify(n);
        expect(Object.is(scanner.reset(text).number(), JSON.parse(text))).toBe(true);
      }),
      RUNS,
    );
    for (const text of ["0", "-0", "1E+2", "2e-3", "0.5e10", "-12.75E0"]) expect(Object.is(scanner.reset(text).number(), JSON.parse(text))).toBe(true);
    for (const text of ["01", "1.", ".5", "+1", "1e", "-", "0x1", "NaN"]) expect(accepts(text)).toBe(false);
  });

  it("reads keys in order and declines a key written with escapes, whose meaning a raw comparison would miss", () => {
    scanner.reset('{"a": 1, "b" :[true,null]}');
    expect(scanner.enterObject()).toBe(true);
    expect(scanner.key()).toBe("a");
    expect(scanner.number()).toBe(1);
    expect(scanner.key()).toBe("b");
    expect(scanner.skip()).toBe(true);
    expect(scanner.key()).toBe(null);
    expect(scanner.end()).toBe(true);
    scanner.reset('{"con\\u0074ent":"x"}');
    expect(scanner.enterObject()).toBe(true);
    expect(scanner.key()).toBeUndefined();
  });

  it("declines nesting deeper than it recurses rather than overflowing the stack", () => {
    expect(accepts(`${"[".repeat(32)}${"]".repeat(32)}`)).toBe(true);
    expect(accepts(`${"[".repeat(33)}${"]".repeat(33)}`)).toBe(false);
    expect(accepts(`${"[".repeat(100000)}`)).toBe(false);
  });

  it("declines trailing commas, a missing colon and text after the value", () => {
    for (const text of ['{"a":1,}', "[1,]", '{"a" 1}', '{"a":1} x', "{,}", "[,1]", '"a', '"\\x"', '"\t"']) expect(accepts(text)).toBe(false);
  });
});
