import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseParser, sseFrame } from "../../../lib/wire/sse.js";
import { type SseEvent } from "../../../core/index.js";

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

/** Feeds `text` to a parser in the given cut points; returns the events and the kept text. */
function run(text: string, cuts: number[], keep: (e: SseEvent) => boolean) {
  const events: SseEvent[] = [];
  let kept = "";
  let writes = 0;
  const parser = new SseParser(
    (e) => {
      events.push(e);
      return keep(e);
    },
    (t) => {
      kept += t;
      writes++;
    },
  );
  const bytes = Buffer.from(text, "utf8");
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parser.push(bytes.subarray(from, cut));
    from = cut;
  }
  parser.push(bytes.subarray(from));
  parser.end();
  return { events, kept, writes };
}

const frame = (data: string, eol = "\n", event?: string) => (event ? `event: ${event}${eol}` : "") + `data: ${data}${eol}${eol}`;

describe("SseParser with passKept: the stream's own text minus dropped events", () => {
  it("hands back every kept event as the upstream wrote it, comments and CRLF included", () => {
    const text = ": hello\n\n" + frame('{"a":1}', "\r\n") + frame("drop me") + frame("multi\ndata: line", "\n", "named");
    const { events, kept } = run(text, [5, 17, 30], (e) => e.data !== "drop me");
    expect(events.map((e) => e.data)).toEqual(['{"a":1}', "drop me", "multi\nline"]);
    expect(kept).toBe(": hello\n\n" + frame('{"a":1}', "\r\n") + frame("multi\ndata: line", "\n", "named"));
  });

  it("writes once per push at most, and nothing for a push that completes no event", () => {
    const text = frame("one") + frame("two");
    const { writes, kept } = run(text, [3, 8], () => true);
    expect(kept).toBe(text);
    // Pushes: "dat", "a: on", "e\n\ndata: two\n\n": only the last completes events.
    expect(writes).toBe(1);
  });

  it("keeps a final event that lacks its blank line, and drops it when asked", () => {
    expect(run(frame("a") + "data: tail", [], () => true).kept).toBe(frame("a") + "data: tail");
    expect(run(frame("a") + "data: tail", [4], (e) => e.data !== "tail").kept).toBe(frame("a"));
  });

  it("for any stream, any cut into chunks (multi-byte characters split too) and any choice of drops, gives exactly the kept events' text", () => {
    const dataArb = fc.string({ unit: "binary", maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, " "));
    const eventArb = fc.record({ data: dataArb, eol: fc.constantFrom("\n", "\r\n"), event: fc.option(fc.constantFrom("delta", "stop"), { nil: undefined }), comment: fc.boolean(), drop: fc.boolean() });
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (list, rawCuts) => {
        const parts = list.map((e, i) => (e.comment ? `: ping ${i}${e.eol}` : "") + frame(`${i}|${e.data}`, e.eol, e.event));
        const text = parts.join("");
        const size = Buffer.byteLength(text);
        const cuts = rawCuts.map((c) => (size === 0 ? 0 : c % (size + 1)));
        const dropped = new Set(list.flatMap((e, i) => (e.drop ? [String(i)] : [])));
        const { events, kept } = run(text, cuts, (e) => !dropped.has(e.data.split("|")[0]!));
        expect(events.map((e) => e.data)).toEqual(list.map((e, i) => `${i}|${e.data}`));
        // A dropped event takes its comment lines with it: they belong to the event's text.
        expect(kept).toBe(parts.filter((_, i) => !dropped.has(String(i))).join(""));
      }),
      { numRuns: 500 },
    );
  });
});
