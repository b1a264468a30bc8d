/**
 * The fast paths of gemini streams: single-text-part chunks read by their shape instead of
 * JSON.parse, and written as text instead of JSON.stringify. Each must give exactly what the JSON
 * path gives, or decline.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IrRequest, IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-gemini/index.js";
import { Raw, awkwardText, decodeOutcome, forcedSlow, framesOf, objectText, parsedWhole, sseOf, textStyle } from "../formats/fast-path-support.js";
import { encodeEvents } from "../formats/stream-support.js";

const t = plugin.translator;
const request: IrRequest = { model: "gemini-2.5-flash", stream: true, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

type Entries = Array<readonly [string, unknown]>;

const envelope: Entries = [["modelVersion", "gemini-2.5-flash"], ["responseId", "resp-abc"]];
const chunk = (candidate: unknown, more: Entries = []) => objectText([["candidates", [candidate]], ...more, ...envelope]);
const first = chunk({ content: { parts: [{ text: "Hi" }], role: "model" }, index: 0 }, [["usageMetadata", { promptTokenCount: 9, totalTokenCount: 9 }]]);
const last = chunk({ content: { parts: [{ text: "" }], role: "model" }, finishReason: "STOP", index: 0 }, [["usageMetadata", { promptTokenCount: 9, candidatesTokenCount: 12, totalTokenCount: 21 }]]);

const textChunk = fc.record({
  text: awkwardText,
  usage: fc.option(fc.record({ promptTokenCount: fc.constantFrom(9, 9, 10), candidatesTokenCount: fc.option(fc.nat(50), { nil: undefined }), totalTokenCount: fc.nat(60) }), { nil: undefined }),
  thought: fc.constantFrom(undefined, false, null),
  role: fc.boolean(),
  safety: fc.boolean(),
  order: fc.nat(),
  style: textStyle,
});

type TextChunk = typeof textChunk extends fc.Arbitrary<infer T> ? T : never;

function textChunkText(c: TextChunk): string {
  const part: Entries = [["text", c.text], ...(c.thought === undefined ? [] : [["thought", c.thought] as const])];
  if (c.order % 2 === 1) part.reverse();
  const content: Entries = [["parts", new Raw(`[${objectText(part, c.style)}]`)], ...(c.role ? [["role", "model"] as const] : [])];
  if ((c.order >> 1) % 2 === 1) content.reverse();
  const candidate: Entries = [["content", new Raw(objectText(content, c.style))], ["index", 0], ...(c.safety ? [["safetyRatings", [{ category: "HARM_CATEGORY_HATE_SPEECH", probability: "NEGLIGIBLE" }]] as const] : [])];
  const top: Entries = [["candidates", new Raw(`[${objectText(candidate, c.style)}]`)], ...(c.usage === undefined ? [] : [["usageMetadata", c.usage] as const]), ...envelope];
  if ((c.order >> 2) % 3 === 0) top.push(top.shift()!);
  return objectText(top, c.style);
}

const declined = [
  chunk({ content: { parts: [{ text: "thinking", thought: true }], role: "model" }, index: 0 }),
  chunk({ content: { parts: [{ text: "signed", thoughtSignature: "sig" }], role: "model" }, index: 0 }),
  chunk({ content: { parts: [{ functionCall: { name: "f", args: { a: 1 } } }], role: "model" }, index: 0 }),
  chunk({ content: { parts: [{ text: "one" }, { text: "two" }], role: "model" }, index: 0 }),
  objectText([["candidates", [{ content: { parts: [{ text: "a" }] } }, { content: { parts: [{ text: "b" }] } }]], ...envelope]),
  chunk({ content: { parts: [{ text: "blocked" }], role: "model" }, finishReason: "SAFETY", index: 0 }),
  chunk({ content: { parts: [{ text: "a" }], role: "model" }, index: 0 }, [["error", { code: 429, message: "quota", status: "RESOURCE_EXHAUSTED" }]]),
  '{"candidates":[{"content":{"parts":[{"text":"a","text":"twice"}],"role":"model"},"index":0}],"modelVersion":"gemini-2.5-flash"}',
  chunk({ content: { parts: [{ text: "cut" }], role: "model" }, index: 0 }).slice(0, -1),
];

describe("gemini stream fast path", () => {
  it("decodes generated streams to exactly the IR events the JSON.parse reading gives", () => {
    const item = fc.oneof({ weight: 10, arbitrary: textChunk.map((c) => ({ c })) }, { weight: 1, arbitrary: fc.nat().map((k) => ({ k })) });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 14 }), (items) => {
        const datas = [first, ...items.map((i) => ("c" in i ? textChunkText(i.c) : declined[i.k % declined.length]!)), last];
        const fast = decodeOutcome(t, sseOf(datas));
        const slow = decodeOutcome(t, sseOf(datas.map(forcedSlow)));
        expect(fast).toEqual(slow);
      }),
      { numRuns: 400 },
    );
  });

  it("reads text chunks without JSON.parse of the chunk once the stream has started, parsing a repeated usageMetadata once", () => {
    const texts = ["Hel", 'lo "wörld"\n', "\u2028 😀 \\"];
    const usage = { promptTokenCount: 9, totalTokenCount: 9 };
    const datas = [first, ...texts.map((text) => chunk({ content: { parts: [{ text }], role: "model" }, index: 0 }, [["usageMetadata", usage]])), last];
    const { result, parsed } = parsedWhole([...datas, JSON.stringify(usage)], () => decodeOutcome(t, sseOf(datas)));
    expect(result.events.filter((ev) => ev.type === "text")).toEqual(["Hi", ...texts].map((text) => ({ type: "text", text })));
    expect(result.events.filter((ev) => ev.type === "usage")).toHaveLength(datas.length);
    expect(parsed).toBe(3); // the first and last chunks, and the usage once
  });

  it("sends thoughts, signed parts, function calls, several parts or candidates, finish reasons, errors and broken JSON down the JSON.parse path", () => {
    for (const event of declined) {
      const datas = [first, textChunkText({ text: "a", usage: undefined, thought: undefined, role: true, safety: false, order: 0, style: { spaced: false, ascii: false } }), event, last];
      const { result, parsed } = parsedWhole(datas, () => decodeOutcome(t, sseOf(datas)));
      expect(result).toEqual(decodeOutcome(t, sseOf(datas.map(forcedSlow))));
      expect(parsed).toBeGreaterThanOrEqual(2);
    }
  });

  it("encodes text and thought chunks byte for byte as JSON.stringify of the chunk", () => {
    const event = fc.oneof(
      awkwardText.map((text): IrStreamEvent => ({ type: "text", text })),
      awkwardText.map((text): IrStreamEvent => ({ type: "thinking", text })),
    );
    fc.assert(
      fc.property(awkwardText, fc.array(event, { maxLength: 10 }), (model, events) => {
        const frames = framesOf(encodeEvents(t, request, [{ type: "start", id: "resp-1", model }, ...events])).slice(0, -1);
        const parts = events.flatMap((ev) => (ev.type === "text" && ev.text.length > 0 ? [{ text: ev.text }] : ev.type === "thinking" && ev.text.length > 0 ? [{ text: ev.text, thought: true }] : []));
        expect(frames.map((f) => f.data)).toEqual(parts.map((part) => JSON.stringify({ candidates: [{ content: { role: "model", parts: [part] }, index: 0 }], modelVersion: model.length > 0 ? model : request.model, responseId: "resp-1" })));
      }),
      { numRuns: 300 },
    );
  });
});
