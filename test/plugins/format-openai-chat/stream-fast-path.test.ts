/**
 * The fast paths of openai-chat streams: text-delta chunks read by their shape instead of
 * JSON.parse, and delta chunks written as text instead of JSON.stringify. Each must give exactly
 * what the JSON path gives, or decline.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IrRequest, IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-chat/index.js";
import { Raw, awkwardText, decodeOutcome, forcedSlow, framesOf, objectText, parsedWhole, sseOf, textStyle, type TextStyle } from "../formats/fast-path-support.js";
import { encodeEvents } from "../formats/stream-support.js";

const t = plugin.translator;
const request: IrRequest = { model: "gpt-4o", stream: true, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

type Entries = Array<readonly [string, unknown]>;

/** Moves one entry to the end: another key order, as some servers write. */
function reorder(entries: Entries, order: number): Entries {
  if (order % 3 !== 0 || entries.length < 2) return entries;
  const moved = [...entries];
  moved.push(moved.splice(order % moved.length, 1)[0]!);
  return moved;
}

interface Envelope {
  id: string;
  created: number;
  model: string;
  fingerprint: string | undefined;
}

const envelope: fc.Arbitrary<Envelope> = fc.record({
  id: fc.string({ maxLength: 12 }),
  created: fc.integer({ min: 1, max: 2_000_000_000 }),
  model: fc.string({ maxLength: 10 }),
  fingerprint: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
});

const deltaChunk = fc.record({
  content: fc.oneof({ weight: 8, arbitrary: awkwardText }, { weight: 1, arbitrary: fc.constantFrom(null, undefined) }),
  refusal: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(undefined, null) }, { weight: 1, arbitrary: awkwardText }),
  reasoning: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("reasoning_content", "reasoning") }),
  reasoningText: fc.oneof(awkwardText, fc.constant(null)),
  role: fc.boolean(),
  logprobs: fc.constantFrom(undefined, null, { content: [{ token: "a", logprob: -0.1, bytes: [97], top_logprobs: [] }] }),
  obfuscation: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
  usageNull: fc.boolean(),
  unknown: fc.option(fc.oneof(fc.string(), fc.integer(), fc.constant({ nested: [1, { deep: "x" }] })), { nil: undefined }),
  index: fc.constantFrom(0, 0, 0, undefined),
  order: fc.nat(),
  style: textStyle,
});

type DeltaChunk = typeof deltaChunk extends fc.Arbitrary<infer T> ? T : never;

function envelopeEntries(e: Envelope): Entries {
  return [["id", e.id], ["object", "chat.completion.chunk"], ["created", e.created], ["model", e.model], ...(e.fingerprint === undefined ? [] : [["system_fingerprint", e.fingerprint] as const])];
}

function deltaText(e: Envelope, d: DeltaChunk): string {
  const style: TextStyle = d.style;
  const delta: Entries = [
    ...(d.role ? [["role", "assistant"] as const] : []),
    ...(d.content === undefined ? [] : [["content", d.content] as const]),
    ...(d.refusal === undefined ? [] : [["refusal", d.refusal] as const]),
    ...(d.reasoning === undefined ? [] : [[d.reasoning, d.reasoningText] as const]),
  ];
  const choice: Entries = [
    ...(d.index === undefined ? [] : [["index", d.index] as const]),
    ["delta", new Raw(objectText(reorder(delta, d.order), style))],
    ...(d.logprobs === undefined ? [] : [["logprobs", d.logprobs] as const]),
    ["finish_reason", null],
  ];
  const chunk: Entries = [
    ...envelopeEntries(e),
    ["choices", new Raw(`[${objectText(reorder(choice, d.order >> 2), style)}]`)],
    ...(d.usageNull ? [["usage", null] as const] : []),
    ...(d.obfuscation === undefined ? [] : [["obfuscation", d.obfuscation] as const]),
    ...(d.unknown === undefined ? [] : [["x_unknown", d.unknown] as const]),
  ];
  return objectText(reorder(chunk, d.order >> 4), style);
}

/** Chunks the fast path must decline, each a way `read` differs from a plain text delta. */
function declinedTexts(e: Envelope): string[] {
  const base = envelopeEntries(e);
  const chunk = (choices: unknown, more: Entries = []) => objectText([...base, ["choices", choices], ...more]);
  return [
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "f", arguments: "" } }] }, finish_reason: null }]),
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }, finish_reason: null }]),
    chunk([{ index: 0, delta: { content: "both" }, finish_reason: null }, { index: 1, delta: { content: "second" }, finish_reason: null }]),
    chunk([{ index: 1, delta: { content: "other choice" }, finish_reason: null }]),
    chunk([{ index: 0, delta: { content: "with usage" }, finish_reason: null }], [["usage", { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }]]),
    objectText([...base, ["choices", new Raw('[{"index":0,"delta":{"content":"a","content":"twice"},"finish_reason":null}]')]]),
    objectText([...base, ["choices", new Raw('[{"index":0,"delta":{"content":"a"},"finish_reason":null}]')], ["choices", []]]),
    chunk([{ index: 0, delta: { content: "a" }, finish_reason: null }], [["error", { message: "overloaded", type: "server_error" }]]),
    chunk([{ index: 0, delta: { content: "cut" }, finish_reason: null }]).slice(0, -2),
  ];
}

const finishText = (e: Envelope) => objectText([...envelopeEntries(e), ["choices", [{ index: 0, delta: {}, finish_reason: "stop" }]]]);
const roleText = (e: Envelope) => objectText([...envelopeEntries(e), ["choices", [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]]]);

describe("openai-chat stream fast path", () => {
  it("decodes generated streams to exactly the IR events the JSON.parse reading gives", () => {
    const item = fc.oneof({ weight: 12, arbitrary: deltaChunk.map((d) => ({ d })) }, { weight: 1, arbitrary: fc.nat().map((k) => ({ k })) });
    fc.assert(
      fc.property(envelope, fc.array(item, { maxLength: 14 }), (e, items) => {
        const declined = declinedTexts(e);
        const datas = [roleText(e), ...items.map((i) => ("d" in i ? deltaText(e, i.d) : declined[i.k % declined.length]!)), finishText(e)];
        const fast = decodeOutcome(t, sseOf([...datas, "[DONE]"]));
        const slow = decodeOutcome(t, sseOf([...datas.map(forcedSlow), "[DONE]"]));
        expect(fast).toEqual(slow);
      }),
      { numRuns: 400 },
    );
  });

  it("reads text-delta chunks without JSON.parse of the chunk once the stream has started", () => {
    const e: Envelope = { id: "chatcmpl-1", created: 1700000000, model: "gpt-4o", fingerprint: "fp_1" };
    const texts = ["Hel", "lo, \"wörld\"\n", "\u2028 😀 \\"];
    const datas = [roleText(e), ...texts.map((content, i) => objectText([...envelopeEntries(e), ["choices", [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }]], ["usage", null], ["obfuscation", "x".repeat(i + 1)]])), finishText(e)];
    const { result, parsed } = parsedWhole(datas, () => decodeOutcome(t, sseOf([...datas, "[DONE]"])));
    expect(result.events.filter((ev) => ev.type === "text")).toEqual(texts.map((text) => ({ type: "text", text })));
    // The role chunk (before the start) and the finish chunk go through JSON.parse; the deltas do not.
    expect(parsed).toBe(2);
  });

  it("sends tool calls, finish reasons, usage, errors, several choices, a key given twice and broken JSON down the JSON.parse path", () => {
    const e: Envelope = { id: "chatcmpl-1", created: 1700000000, model: "gpt-4o", fingerprint: undefined };
    for (const declined of declinedTexts(e)) {
      const datas = [roleText(e), deltaText(e, { content: "a", refusal: undefined, reasoning: undefined, reasoningText: null, role: false, logprobs: undefined, obfuscation: undefined, usageNull: false, unknown: undefined, index: 0, order: 1, style: { spaced: false, ascii: false } }), declined, finishText(e)];
      const { result, parsed } = parsedWhole(datas, () => decodeOutcome(t, sseOf([...datas, "[DONE]"])));
      expect(result).toEqual(decodeOutcome(t, sseOf([...datas.map(forcedSlow), "[DONE]"])));
      expect(parsed).toBeGreaterThanOrEqual(2); // the role chunk and the declined one (the stream may end there)
    }
    const toolStream = [roleText(e), declinedTexts(e)[0]!, declinedTexts(e)[1]!, finishText(e)];
    expect(decodeOutcome(t, sseOf([...toolStream, "[DONE]"])).events.filter((ev) => ev.type === "tool_call")).toHaveLength(2);
    const twice = decodeOutcome(t, sseOf([roleText(e), declinedTexts(e)[5]!, finishText(e), "[DONE]"]));
    expect(twice.events.filter((ev) => ev.type === "text")).toEqual([{ type: "text", text: "twice" }]);
  });

  it("encodes text, reasoning and tool-argument deltas byte for byte as JSON.stringify of the chunk", () => {
    const event = fc.oneof(
      awkwardText.map((text): IrStreamEvent => ({ type: "text", text })),
      awkwardText.map((text): IrStreamEvent => ({ type: "thinking", text })),
      fc.tuple(fc.integer({ min: 0, max: 2 }), awkwardText).map(([index, argumentsDelta]): IrStreamEvent => ({ type: "tool_call", index, argumentsDelta })),
    );
    fc.assert(
      fc.property(awkwardText, awkwardText, fc.integer({ min: 1, max: 2_000_000_000 }), fc.array(event, { maxLength: 10 }), (id, model, created, events) => {
        const frames = framesOf(encodeEvents(t, request, [{ type: "start", id, model, created }, ...events, { type: "finish", finishReason: "stop" }]));
        const first = JSON.parse(frames[0]!.data) as { id: string; model: string };
        const envelope = { id: first.id, object: "chat.completion.chunk", created, model: first.model };
        const chunk = (delta: Record<string, unknown>) => JSON.stringify({ ...envelope, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] });
        // One expected frame per event that writes one; undefined for a tool call's first frame, still written the JSON way.
        const expected: Array<string | undefined> = [];
        const seen = new Map<number, number>();
        for (const ev of events) {
          if (ev.type === "text" && ev.text.length > 0) expected.push(chunk({ content: ev.text }));
          else if (ev.type === "thinking" && ev.text.length > 0) expected.push(chunk({ reasoning_content: ev.text }));
          else if (ev.type === "tool_call") {
            const index = seen.get(ev.index);
            if (index === undefined) seen.set(ev.index, seen.size);
            expected.push(index === undefined ? undefined : chunk({ tool_calls: [{ index, function: { arguments: ev.argumentsDelta } }] }));
          }
        }
        expect(frames).toHaveLength(expected.length + 3); // role chunk, the deltas, finish chunk, [DONE]
        expected.forEach((want, i) => {
          if (want !== undefined) expect(frames[i + 1]!.data).toBe(want);
        });
      }),
      { numRuns: 300 },
    );
  });
});
