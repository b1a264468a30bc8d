import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseParser, sseFrame, type SseEvent } from "../../core/index.js";

/** The WHATWG reading the parser implements, written the plain way: whole text, split into lines, one field at a time. */
function reference(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  let data: string[] = [];
  let name: string | undefined;
  const dispatch = () => {
    if (data.length > 0) out.push(name === undefined ? { data: data.join("\n") } : { event: name, data: data.join("\n") });
    data = [];
    name = undefined;
  };
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") {
      dispatch();
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") name = value;
  }
  dispatch();
  return out;
}

function parse(pieces: Array<string | Buffer>): SseEvent[] {
  const out: SseEvent[] = [];
  const parser = new SseParser((e) => out.push(e));
  for (const piece of pieces) parser.push(piece);
  parser.end();
  return out;
}

const value = fc.oneof(fc.string({ unit: "grapheme", maxLength: 8 }).map((s) => s.replace(/[\r\n]/g, "")), fc.constantFrom("", " ", "  x", ":", "data: nested", "é😀"));
const line = fc.oneof(
  { weight: 6, arbitrary: value.map((v) => `data: ${v}`) },
  { weight: 2, arbitrary: value.map((v) => `data:${v}`) },
  { weight: 2, arbitrary: value.map((v) => `event: ${v}`) },
  { weight: 3, arbitrary: fc.constant("") },
  fc.constantFrom("data", "event", ": keep-alive", "id: 7", "retry: 100", "dat: x", "datax: y", "DATA: z", " data: w"),
);

describe("SseParser", () => {
  it("reads any stream as the plain line-by-line reading does, however it is cut into chunks", () => {
    fc.assert(
      // Repeated, so that byte chunks run past the size the parser decodes whole.
      fc.property(fc.array(fc.tuple(line, fc.boolean()), { maxLength: 20 }), fc.integer({ min: 1, max: 60 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (lines, repeat, finalNewline, cuts, asBytes) => {
        const text = lines.map(([l, crlf]) => `${l}${crlf ? "\r\n" : "\n"}`).join("").repeat(repeat) + (finalNewline ? "" : "data: tail");
        const whole = asBytes ? Buffer.from(text) : text;
        const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const pieces: Array<string | Buffer> = [];
        let from = 0;
        for (const p of [...points, whole.length]) {
          pieces.push(whole.slice(from, p));
          from = p;
        }
        expect(parse(pieces)).toEqual(reference(text));
      }),
      { numRuns: 500 },
    );
  });

  it("joins multi-line data and frames it back the same way", () => {
    const events = parse([`${sseFrame("a\nb\n\nc", "named")}${sseFrame("")}`]);
    expect(events).toEqual([{ event: "named", data: "a\nb\n\nc" }, { data: "" }]);
  });
});
