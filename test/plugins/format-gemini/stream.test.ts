import { describe, expect, it } from "vitest";
import { GatewayError, type IrRequest, type IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-gemini/index.js";
import { collectStream, decodeSse, decodeSseError, encodeEvents, readFixture, readFixtureText, sseEvents, type StreamResult } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; file: string; result: StreamResult }>>("gemini", "streams.json");
const request: IrRequest = { model: "gemini-2.5-pro", stream: true, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

describe("format-gemini streams", () => {
  for (const f of fixtures) {
    it(`decodes a recorded stream: ${f.name}`, () => {
      expect(collectStream(decodeSse(t, readFixtureText("gemini", f.file)))).toEqual(f.result);
    });
    it(`re-encodes a decoded stream and decodes it to the same result: ${f.name}`, () => {
      const events = decodeSse(t, readFixtureText("gemini", f.file));
      expect(collectStream(decodeSse(t, encodeEvents(t, request, events)))).toEqual(collectStream(events));
    });
  }

  it("encodes text and thoughts as they come and whole function calls in the final chunk with finish and usage", () => {
    const events: IrStreamEvent[] = [
      { type: "start", id: "msg_1", model: "claude-x" },
      { type: "thinking", text: "plan" },
      { type: "thinking", text: "", signature: "sig" },
      { type: "text", text: "Hi" },
      { type: "tool_call", index: 0, id: "toolu_1", name: "f", argumentsDelta: "{\"a\"" },
      { type: "tool_call", index: 0, argumentsDelta: ":1}" },
      { type: "usage", usage: { inputTokens: 10, outputTokens: 5, reasoningTokens: 2 } },
      { type: "finish", finishReason: "tool_calls" },
    ];
    const chunks = sseEvents(encodeEvents(t, request, events)).map((e) => JSON.parse(e.data) as Record<string, unknown>);
    expect(chunks).toEqual([
      { candidates: [{ content: { role: "model", parts: [{ text: "plan", thought: true }] }, index: 0 }], modelVersion: "claude-x", responseId: "msg_1" },
      { candidates: [{ content: { role: "model", parts: [{ text: "Hi", thoughtSignature: "sig" }] }, index: 0 }], modelVersion: "claude-x", responseId: "msg_1" },
      {
        candidates: [{ content: { role: "model", parts: [{ functionCall: { id: "toolu_1", name: "f", args: { a: 1 } } }] }, finishReason: "STOP", index: 0 }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 3, totalTokenCount: 15, thoughtsTokenCount: 2 },
        modelVersion: "claude-x",
        responseId: "msg_1",
      },
    ]);
  });

  it("ends a failed stream with the error as an SSE event and as the bare JSON Google's SDKs look for", () => {
    const text = encodeEvents(t, request, [{ type: "start", id: "r", model: "m" }, { type: "text", text: "x" }], new GatewayError({ status: 503, type: "unavailable", code: "c", message: "overloaded" }));
    const body = '{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}';
    expect(text.endsWith(`data: ${body}\n\n${body}`)).toBe(true);
    const { error } = decodeSseError(t, text);
    expect(error).toMatchObject({ status: 503, type: "unavailable", failure: "stream" });
  });

  it("surfaces an in-stream error chunk as a GatewayError after the text before it", () => {
    const { events, error } = decodeSseError(t, readFixtureText("gemini", "stream-error.sse"));
    expect(collectStream(events).text).toBe("Partial");
    expect(error).toMatchObject({ status: 503, type: "unavailable", code: "unavailable", message: "The model is overloaded. Please try again later." });
  });

  it("treats a blocked prompt as a content-filter finish", () => {
    const events = decodeSse(t, 'data: {"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":4},"responseId":"b"}\n\n');
    expect(collectStream(events)).toMatchObject({ finishReason: "content_filter", usage: { inputTokens: 4, outputTokens: 0 } });
  });

  const broken: Array<[string, string]> = [
    ["malformed JSON", 'data: {"candidates": [\n\n'],
    ["candidates that are not an array", 'data: {"candidates": {}}\n\n'],
    ["a function call without name", 'data: {"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]}\n\n'],
    ["a stream without a finishReason", 'data: {"candidates": [{"content": {"parts": [{"text": "a"}]}}]}\n\n'],
  ];
  for (const [what, sse] of broken) {
    it(`turns ${what} into a 502 GatewayError, never a crash`, () => {
      const { error } = decodeSseError(t, sse);
      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ status: 502, code: "bad_upstream_stream", failure: "stream" });
    });
  }

  it("observes the latest usage from chunks that carry usageMetadata", () => {
    const observer = t.createStreamObserver({});
    for (const e of sseEvents(readFixtureText("gemini", "stream-text.sse"))) observer.push(e);
    expect(observer.usage).toEqual({ inputTokens: 9, outputTokens: 4 });
  });
});
