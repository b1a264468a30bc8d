/**
 * The fast paths of openai-responses streams: delta events read by their shape instead of
 * JSON.parse, and written as text instead of JSON.stringify. Each must give exactly what the JSON
 * path gives, or decline.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IrRequest, IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-responses/index.js";
import { awkwardText, decodeOutcome, forcedSlow, framesOf, objectText, parsedWhole, sseOf, textStyle } from "../formats/fast-path-support.js";
import { encodeEvents } from "../formats/stream-support.js";

const t = plugin.translator;
const request: IrRequest = { model: "gpt-4.1", stream: true, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

type Entries = Array<readonly [string, unknown]>;

const response = { id: "resp_1", object: "response", created_at: 1741290958, status: "in_progress", model: "gpt-4.1", output: [], usage: null };
const head = [
  JSON.stringify({ type: "response.created", sequence_number: 0, response }),
  JSON.stringify({ type: "response.output_item.added", sequence_number: 1, output_index: 0, item: { id: "msg_1", type: "message", status: "in_progress", content: [], role: "assistant" } }),
  JSON.stringify({ type: "response.output_item.added", sequence_number: 2, output_index: 1, item: { id: "fc_1", type: "function_call", status: "in_progress", call_id: "call_1", name: "f", arguments: "" } }),
];
const completed = JSON.stringify({ type: "response.completed", sequence_number: 999, response: { ...response, status: "completed", usage: { input_tokens: 9, output_tokens: 5, total_tokens: 14 } } });
const named = (data: string): string | undefined => /"type"\s*:\s*"([^"]+)"/.exec(data)?.[1];

const TYPES = ["response.output_text.delta", "response.refusal.delta", "response.reasoning_summary_text.delta", "response.reasoning_text.delta", "response.function_call_arguments.delta"] as const;

const delta = fc.record({
  type: fc.constantFrom(...TYPES),
  delta: awkwardText,
  sequence: fc.nat(),
  obfuscation: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
  logprobs: fc.boolean(),
  order: fc.nat(),
  style: textStyle,
});

type Delta = typeof delta extends fc.Arbitrary<infer T> ? T : never;

function deltaText(d: Delta): string {
  const args = d.type === "response.function_call_arguments.delta";
  const entries: Entries = [
    ["type", d.type],
    ["sequence_number", d.sequence],
    ["item_id", args ? "fc_1" : "msg_1"],
    ["output_index", args ? 1 : 0],
    ...(args ? [] : [["content_index", 0] as const]),
    ["delta", d.delta],
    ...(d.logprobs ? [["logprobs", []] as const] : []),
    ...(d.obfuscation === undefined ? [] : [["obfuscation", d.obfuscation] as const]),
  ];
  if (d.order % 3 === 0) entries.push(entries.shift()!);
  return objectText(entries, d.style);
}

const declined = [
  JSON.stringify({ type: "response.function_call_arguments.delta", sequence_number: 5, item_id: "fc_unknown", output_index: 1, delta: "{}" }),
  JSON.stringify({ type: "response.output_text.delta", sequence_number: 5, item_id: "msg_1", delta: 7 }),
  '{"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1","delta":"a","delta":"twice"}',
  JSON.stringify({ type: "response.output_text.annotation.added", sequence_number: 5, item_id: "msg_1", annotation: {} }),
  JSON.stringify({ type: "response.content_part.added", sequence_number: 5, item_id: "msg_1", output_index: 0, content_index: 0, part: { type: "output_text", text: "" } }),
  JSON.stringify({ type: "response.reasoning_summary_part.added", sequence_number: 5, item_id: "rs_1", output_index: 0, summary_index: 1, part: { type: "summary_text", text: "" } }),
  JSON.stringify({ type: "response.output_text.delta", sequence_number: 5, item_id: "msg_1", delta: "cut" }).slice(0, -1),
  JSON.stringify({ sequence_number: 5, item_id: "msg_1", delta: "named by the SSE event only" }),
];

describe("openai-responses stream fast path", () => {
  it("decodes generated streams to exactly the IR events the JSON.parse reading gives", () => {
    const item = fc.oneof({ weight: 10, arbitrary: delta.map((d) => ({ d })) }, { weight: 1, arbitrary: fc.nat().map((k) => ({ k })) });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 14 }), (items) => {
        const datas = [...head, ...items.map((i) => ("d" in i ? deltaText(i.d) : declined[i.k % declined.length]!)), completed];
        // The event without a type is named by its SSE event line, as `read` allows.
        const name = (data: string) => named(data) ?? "response.output_text.delta";
        const fast = decodeOutcome(t, sseOf(datas, name));
        const slow = decodeOutcome(t, sseOf(datas.map(forcedSlow), name));
        expect(fast).toEqual(slow);
      }),
      { numRuns: 400 },
    );
  });

  it("reads delta events without JSON.parse of the event once the response has started", () => {
    const texts = ["Hel", 'lo "wörld"\n', "\u2028 😀 \\"];
    const datas = [...head, ...texts.map((text, i) => JSON.stringify({ type: "response.output_text.delta", sequence_number: 3 + i, item_id: "msg_1", output_index: 0, content_index: 0, delta: text, logprobs: [], obfuscation: "x".repeat(i + 1) })), completed];
    const { result, parsed } = parsedWhole(datas, () => decodeOutcome(t, sseOf(datas, named)));
    expect(result.events.filter((ev) => ev.type === "text")).toEqual(texts.map((text) => ({ type: "text", text })));
    expect(parsed).toBe(datas.length - texts.length);
  });

  it("sends unknown items, other event types, ambiguous or malformed deltas down the JSON.parse path", () => {
    for (const event of declined) {
      const datas = [...head, deltaText({ type: "response.output_text.delta", delta: "a", sequence: 3, obfuscation: undefined, logprobs: true, order: 1, style: { spaced: false, ascii: false } }), event, completed];
      const name = (data: string) => named(data) ?? "response.output_text.delta";
      const { result, parsed } = parsedWhole(datas, () => decodeOutcome(t, sseOf(datas, name)));
      expect(result).toEqual(decodeOutcome(t, sseOf(datas.map(forcedSlow), name)));
      expect(parsed).toBeGreaterThanOrEqual(head.length + 1);
    }
    const unknown = decodeOutcome(t, sseOf([...head, declined[0]!, completed], named));
    expect(unknown.error?.message).toMatch(/unknown item/);
  });

  it("encodes text, reasoning and argument deltas byte for byte as JSON.stringify of the event", () => {
    const event = fc.oneof(
      awkwardText.map((text): IrStreamEvent => ({ type: "text", text })),
      awkwardText.map((text): IrStreamEvent => ({ type: "thinking", text })),
      fc.tuple(fc.integer({ min: 0, max: 1 }), awkwardText).map(([index, argumentsDelta]): IrStreamEvent => ({ type: "tool_call", index, id: "call_x", name: "f", argumentsDelta })),
    );
    const DELTAS: Record<string, string[]> = {
      "response.output_text.delta": ["item_id", "output_index", "content_index", "delta", "logprobs"],
      "response.reasoning_summary_text.delta": ["item_id", "output_index", "summary_index", "delta"],
      "response.function_call_arguments.delta": ["item_id", "output_index", "delta"],
    };
    fc.assert(
      fc.property(fc.array(event, { maxLength: 10 }), (events) => {
        const frames = framesOf(encodeEvents(t, request, [{ type: "start", id: "resp_1", model: "gpt-4.1" }, ...events]));
        const expected = events.flatMap((ev) => {
          const value = ev.type === "tool_call" ? ev.argumentsDelta : ev.type === "text" || ev.type === "thinking" ? ev.text : "";
          return value.length > 0 ? [value] : [];
        });
        const deltas = frames.filter((f) => f.event !== undefined && f.event in DELTAS);
        expect(deltas.map((f) => (JSON.parse(f.data) as { delta: string }).delta)).toEqual(expected);
        for (const f of deltas) {
          const parsed = JSON.parse(f.data) as Record<string, unknown>;
          const rebuilt = { type: f.event, sequence_number: parsed.sequence_number, ...Object.fromEntries(DELTAS[f.event!]!.map((k) => [k, parsed[k]])) };
          expect(f.data).toBe(JSON.stringify(rebuilt));
        }
      }),
      { numRuns: 300 },
    );
  });
});
