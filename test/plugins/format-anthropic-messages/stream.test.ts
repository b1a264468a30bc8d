import { describe, expect, it } from "vitest";
import { GatewayError, type IrRequest, type IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-anthropic-messages/index.js";
import { collectStream, decodeSse, decodeSseError, encodeEvents, readFixture, readFixtureText, sseEvents, type StreamResult, usageView } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; file: string; result: Partial<StreamResult> }>>("anthropic-messages", "streams.json");
const request: IrRequest = { model: "claude-x", stream: true, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

const mixed: IrStreamEvent[] = [
  { type: "start", id: "chatcmpl-9", model: "gpt-4o" },
  { type: "thinking", text: "Plan." },
  { type: "thinking", text: "", signature: "sig" },
  { type: "text", text: "Sure." },
  { type: "tool_call", index: 0, id: "call_a", name: "f", argumentsDelta: "{\"x\":" },
  { type: "tool_call", index: 0, argumentsDelta: "1}" },
  { type: "tool_call", index: 1, id: "call_b", name: "g", argumentsDelta: "" },
  { type: "finish", finishReason: "tool_calls" },
  { type: "usage", usage: { inputTokens: 300, outputTokens: 40, cachedReadTokens: 200, reasoningTokens: 5 } },
];

describe("format-anthropic-messages streams", () => {
  for (const f of fixtures) {
    it(`decodes a recorded stream: ${f.name}`, () => {
      expect(collectStream(decodeSse(t, readFixtureText("anthropic-messages", f.file)))).toEqual(f.result);
    });
    it(`re-encodes a decoded stream and decodes it to the same result: ${f.name}`, () => {
      const events = decodeSse(t, readFixtureText("anthropic-messages", f.file));
      const again = collectStream(decodeSse(t, encodeEvents(t, request, events)));
      const first = collectStream(events);
      expect({ ...again, usage: usageView(again.usage) }).toEqual({ ...first, usage: usageView(first.usage) });
    });
  }

  it("encodes one block at a time with named events, holding message_delta until the end for usage", () => {
    const events = sseEvents(encodeEvents(t, request, mixed));
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const data = events.map((e) => JSON.parse(e.data) as Record<string, any>);
    for (const [i, d] of data.entries()) expect(d.type).toBe(events[i]!.event);
    expect(data[0]!.message).toMatchObject({ id: "chatcmpl-9", model: "gpt-4o", role: "assistant", content: [], stop_reason: null });
    expect(data[1]).toEqual({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } });
    expect(data[3]!.delta).toEqual({ type: "signature_delta", signature: "sig" });
    expect(data[8]).toEqual({ type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "call_a", name: "f", input: {} } });
    expect(data[9]!.delta).toEqual({ type: "input_json_delta", partial_json: "{\"x\":" });
    expect(data[12]!.index).toBe(3);
    expect(data[14]).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { input_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 200, output_tokens: 40, output_tokens_details: { thinking_tokens: 5 } },
    });
  });

  it("sends a late delta for an interleaved tool call to its own block index", () => {
    const events = sseEvents(
      encodeEvents(t, request, [
        { type: "start", id: "x", model: "m" },
        { type: "tool_call", index: 0, id: "a", name: "f", argumentsDelta: "{" },
        { type: "tool_call", index: 1, id: "b", name: "g", argumentsDelta: "{}" },
        { type: "tool_call", index: 0, argumentsDelta: "}" },
        { type: "finish", finishReason: "tool_calls" },
      ]),
    );
    const late = events.map((e) => JSON.parse(e.data) as Record<string, any>).filter((d) => d.delta?.partial_json === "}");
    expect(late).toEqual([{ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "}" } }]);
    expect(collectStream(decodeSse(t, events.map((e) => `event: ${e.event}\ndata: ${e.data}\n\n`).join(""))).toolCalls).toEqual([
      { id: "a", name: "f", arguments: "{}" },
      { id: "b", name: "g", arguments: "{}" },
    ]);
  });

  it("ends a failed stream with an Anthropic error event", () => {
    const text = encodeEvents(t, request, mixed.slice(0, 4), new GatewayError({ status: 529, type: "unavailable", code: "overloaded", message: "Overloaded" }));
    const last = sseEvents(text).at(-1)!;
    expect(last.event).toBe("error");
    expect(JSON.parse(last.data)).toEqual({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    expect(text).not.toContain("message_stop");
  });

  it("surfaces an upstream overloaded error as a 503 GatewayError after the text before it", () => {
    const { events, error } = decodeSseError(t, readFixtureText("anthropic-messages", "stream-overloaded.sse"));
    expect(collectStream(events).text).toBe("Partial");
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 503, type: "unavailable", code: "overloaded_error", failure: "stream" });
  });

  const broken: Array<[string, string]> = [
    ["malformed JSON", 'event: message_start\ndata: {"type":"message_start",\n\n'],
    ["content before message_start", 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}\n\n'],
    ["an input_json_delta outside a tool block", 'data: {"type":"message_start","message":{"id":"m"}}\n\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}}\n\n'],
    ["a stream cut before message_delta", 'data: {"type":"message_start","message":{"id":"m"}}\n\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'],
    ["message_stop without a stop reason", 'data: {"type":"message_start","message":{"id":"m"}}\n\ndata: {"type":"message_stop"}\n\n'],
  ];
  for (const [what, sse] of broken) {
    it(`turns ${what} into a 502 GatewayError, never a crash`, () => {
      const { error } = decodeSseError(t, sse);
      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ status: 502, code: "bad_upstream_stream", failure: "stream" });
    });
  }

  it("observes usage from message_start and message_delta only", () => {
    const observer = t.createStreamObserver({});
    for (const e of sseEvents(readFixtureText("anthropic-messages", "stream-thinking-tools.sse"))) observer.push(e);
    expect(observer.usage).toEqual({ inputTokens: 1496, outputTokens: 89, cachedReadTokens: 1024, cacheWriteTokens: 0 });
  });
});
