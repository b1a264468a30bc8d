/**
 * The fast paths of anthropic-messages streams: content_block_delta events read by their shape
 * instead of JSON.parse, and written as text instead of JSON.stringify. Each must give exactly
 * what the JSON path gives, or decline.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IrRequest, IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-anthropic-messages/index.js";
import { Raw, awkwardText, decodeOutcome, forcedSlow, framesOf, objectText, parsedWhole, sseOf, textStyle } from "../formats/fast-path-support.js";
import { encodeEvents } from "../formats/stream-support.js";

const t = plugin.translator;
const request: IrRequest = { model: "claude-x", stream: true, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

type Entries = Array<readonly [string, unknown]>;

const messageStart = JSON.stringify({ type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "claude-x", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 9, output_tokens: 1 } } });
const blockStart = (index: number, block: unknown) => JSON.stringify({ type: "content_block_start", index, content_block: block });
const blockStop = (index: number) => JSON.stringify({ type: "content_block_stop", index });
const messageDelta = JSON.stringify({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 12 } });
const messageStop = JSON.stringify({ type: "message_stop" });

/** The SSE event name is the data's `type`, as Anthropic sends it (content_block_delta when the data has none). */
const named = (data: string): string => (data === "[DONE]" ? "x" : (/"type"\s*:\s*"([^"]+)"/.exec(data)?.[1] ?? "content_block_delta"));

const BLOCKS = {
  text: { block: { type: "text", text: "" }, delta: "text_delta", field: "text" },
  thinking: { block: { type: "thinking", thinking: "", signature: "" }, delta: "thinking_delta", field: "thinking" },
  tool: { block: { type: "tool_use", id: "toolu_1", name: "f", input: {} }, delta: "input_json_delta", field: "partial_json" },
} as const;

const delta = fc.record({
  value: awkwardText,
  extra: fc.option(fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null), fc.constant({ a: [1] })), { nil: undefined }),
  deltaExtra: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }),
  order: fc.nat(),
  style: textStyle,
});

type Delta = typeof delta extends fc.Arbitrary<infer T> ? T : never;

function deltaText(index: number, kind: keyof typeof BLOCKS, d: Delta): string {
  const spec = BLOCKS[kind];
  const inner: Entries = [["type", spec.delta], [spec.field, d.value], ...(d.deltaExtra === undefined ? [] : [["citation_hint", d.deltaExtra] as const])];
  if (d.order % 2 === 1) inner.reverse();
  const outer: Entries = [["type", "content_block_delta"], ["index", index], ["delta", new Raw(objectText(inner, d.style))], ...(d.extra === undefined ? [] : [["x_extra", d.extra] as const])];
  if ((d.order >> 1) % 3 === 0) outer.push(outer.shift()!);
  return objectText(outer, d.style);
}

/** Events the fast path must decline, each a way `read` differs from a plain delta. */
function declinedTexts(index: number): string[] {
  return [
    JSON.stringify({ type: "ping" }),
    JSON.stringify({ type: "content_block_delta", index, delta: { type: "citations_delta", citation: { type: "char_location", cited_text: "x" } } }),
    JSON.stringify({ type: "content_block_delta", index, delta: { type: "signature_delta", signature: "sig" } }),
    JSON.stringify({ type: "content_block_delta", index, delta: { type: "text_delta", text: "a", thinking: "b" } }),
    JSON.stringify({ index, delta: { type: "text_delta", text: "named by the SSE event only" } }),
    JSON.stringify({ type: "content_block_delta", index: "0", delta: { type: "text_delta", text: "index as text" } }),
    `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":"a","text":"twice"}}`,
    `{"type":"content_block_delta","index":${index},"type":"content_block_delta","delta":{"type":"text_delta","text":"type twice"}}`,
    JSON.stringify({ type: "content_block_delta", index, delta: { type: "text_delta", text: "cut" } }).slice(0, -1),
    JSON.stringify({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: "{}" } }),
  ];
}

describe("anthropic-messages stream fast path", () => {
  it("decodes generated streams to exactly the IR events the JSON.parse reading gives", () => {
    const block = fc.record({ kind: fc.constantFrom<keyof typeof BLOCKS>("text", "text", "thinking", "tool"), deltas: fc.array(fc.oneof({ weight: 10, arbitrary: delta.map((d) => ({ d })) }, { weight: 1, arbitrary: fc.nat().map((k) => ({ k })) }), { maxLength: 8 }) });
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 3 }), (blocks) => {
        const datas = [messageStart];
        blocks.forEach((b, index) => {
          datas.push(blockStart(index, BLOCKS[b.kind].block));
          for (const item of b.deltas) datas.push("d" in item ? deltaText(index, b.kind, item.d) : declinedTexts(index)[item.k % 10]!);
          datas.push(blockStop(index));
        });
        datas.push(messageDelta, messageStop);
        const fast = decodeOutcome(t, sseOf(datas, named));
        const slow = decodeOutcome(t, sseOf(datas.map(forcedSlow), named));
        expect(fast).toEqual(slow);
      }),
      { numRuns: 400 },
    );
  });

  it("reads text deltas without JSON.parse of the event once the message has started", () => {
    const texts = ["Hel", 'lo "wörld"\n', "\u2028 😀 \\"];
    const datas = [messageStart, blockStart(0, BLOCKS.text.block), ...texts.map((text) => JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })), blockStop(0), messageDelta, messageStop];
    const { result, parsed } = parsedWhole(datas, () => decodeOutcome(t, sseOf(datas, named)));
    expect(result.events.filter((ev) => ev.type === "text")).toEqual(texts.map((text) => ({ type: "text", text })));
    expect(parsed).toBe(datas.length - texts.length);
  });

  it("sends pings, other delta types, ambiguous or malformed deltas down the JSON.parse path", () => {
    for (const declined of declinedTexts(0)) {
      const datas = [messageStart, blockStart(0, BLOCKS.text.block), deltaText(0, "text", { value: "a", extra: undefined, deltaExtra: undefined, order: 0, style: { spaced: false, ascii: false } }), declined, blockStop(0), messageDelta, messageStop];
      const { result, parsed } = parsedWhole(datas, () => decodeOutcome(t, sseOf(datas, named)));
      expect(result).toEqual(decodeOutcome(t, sseOf(datas.map(forcedSlow), named)));
      expect(parsed).toBeGreaterThanOrEqual(3); // message_start, content_block_start and the declined event
    }
    const twice = decodeOutcome(t, sseOf([messageStart, blockStart(0, BLOCKS.text.block), declinedTexts(0)[6]!, blockStop(0), messageDelta, messageStop], named));
    expect(twice.events.filter((ev) => ev.type === "text")).toEqual([{ type: "text", text: "twice" }]);
    const unknownTool = decodeOutcome(t, sseOf([messageStart, blockStart(0, BLOCKS.text.block), declinedTexts(0)[9]!], named));
    expect(unknownTool.error?.message).toMatch(/input_json_delta outside a tool_use block/);
  });

  it("encodes content_block_delta events byte for byte as JSON.stringify of the event", () => {
    const event = fc.oneof(
      awkwardText.map((text): IrStreamEvent => ({ type: "text", text })),
      awkwardText.map((text): IrStreamEvent => ({ type: "thinking", text })),
      awkwardText.map((signature): IrStreamEvent => ({ type: "thinking", text: "", signature })),
      fc.tuple(fc.integer({ min: 0, max: 2 }), awkwardText).map(([index, argumentsDelta]): IrStreamEvent => ({ type: "tool_call", index, id: "toolu_x", name: "f", argumentsDelta })),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 10 }), (events) => {
        const frames = framesOf(encodeEvents(t, request, [{ type: "start", id: "msg_1", model: "claude-x" }, ...events])).filter((f) => f.event === "content_block_delta");
        const values: Array<[string, string, string]> = [];
        for (const ev of events) {
          if (ev.type === "text" && ev.text.length > 0) values.push(["text_delta", "text", ev.text]);
          if (ev.type === "thinking" && ev.text.length > 0) values.push(["thinking_delta", "thinking", ev.text]);
          if (ev.type === "thinking" && ev.signature !== undefined) values.push(["signature_delta", "signature", ev.signature]);
          if (ev.type === "tool_call" && ev.argumentsDelta.length > 0) values.push(["input_json_delta", "partial_json", ev.argumentsDelta]);
        }
        expect(frames).toHaveLength(values.length);
        values.forEach(([type, field, value], i) => {
          const data = frames[i]!.data;
          const { index } = JSON.parse(data) as { index: number };
          expect(data).toBe(JSON.stringify({ type: "content_block_delta", index, delta: { type, [field]: value } }));
        });
      }),
      { numRuns: 300 },
    );
  });
});
