import { describe, expect, it } from "vitest";
import { GatewayError, type IrRequest, type IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-responses/index.js";
import { collectStream, decodeSse, decodeSseError, encodeEvents, readFixture, readFixtureText, sseEvents, type StreamResult, usageView } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; file: string; result: StreamResult }>>("openai-responses", "streams.json");
const request: IrRequest = { model: "gpt-4.1", stream: true, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

describe("format-openai-responses streams", () => {
  for (const f of fixtures) {
    it(`decodes a recorded stream: ${f.name}`, () => {
      expect(collectStream(decodeSse(t, readFixtureText("openai-responses", f.file)))).toEqual(f.result);
    });
    it(`re-encodes a decoded stream and decodes it to the same result: ${f.name}`, () => {
      const events = decodeSse(t, readFixtureText("openai-responses", f.file));
      const again = collectStream(decodeSse(t, encodeEvents(t, request, events)));
      const first = collectStream(events);
      expect({ ...again, usage: usageView(again.usage) }).toEqual({ ...first, usage: usageView(first.usage) });
    });
  }

  it("encodes the official event sequence with sequence numbers and the whole response at the end", () => {
    const events: IrStreamEvent[] = [
      { type: "start", id: "resp_1", model: "claude-x", created: 1700000000 },
      { type: "thinking", text: "plan" },
      { type: "thinking", text: "", signature: "sig" },
      { type: "text", text: "Hi" },
      { type: "tool_call", index: 0, id: "toolu_1", name: "f", argumentsDelta: "{\"a\":" },
      { type: "tool_call", index: 1, id: "toolu_2", name: "g", argumentsDelta: "{}" },
      { type: "tool_call", index: 0, argumentsDelta: "1}" },
      { type: "finish", finishReason: "tool_calls" },
      { type: "usage", usage: { inputTokens: 9, outputTokens: 4 } },
    ];
    const sse = sseEvents(encodeEvents(t, request, events));
    const data = sse.map((e) => JSON.parse(e.data) as Record<string, any>);
    expect(sse.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    data.forEach((d, i) => {
      expect(d.type).toBe(sse[i]!.event);
      expect(d.sequence_number).toBe(i);
    });
    expect(data[0]!.response).toMatchObject({ id: "resp_1", model: "claude-x", created_at: 1700000000, status: "in_progress", output: [] });
    expect(data[7]!.item).toMatchObject({ type: "reasoning", summary: [{ type: "summary_text", text: "plan" }], encrypted_content: "sig" });
    expect(data[18]).toMatchObject({ output_index: 2, delta: "1}" });
    const done = data.at(-1)!.response;
    expect(done).toMatchObject({ status: "completed", usage: { input_tokens: 9, output_tokens: 4, total_tokens: 13 } });
    expect(done.output.map((i: { type: string }) => i.type)).toEqual(["reasoning", "message", "function_call", "function_call"]);
    expect(done.output[2]).toMatchObject({ call_id: "toolu_1", arguments: "{\"a\":1}", status: "completed" });
  });

  it("ends with response.incomplete at the length limit and response.failed on an error finish", () => {
    const last = (finishReason: "length" | "error") => sseEvents(encodeEvents(t, request, [{ type: "start", id: "r", model: "m" }, { type: "finish", finishReason }])).at(-1)!;
    expect(last("length").event).toBe("response.incomplete");
    expect(JSON.parse(last("length").data).response.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(last("error").event).toBe("response.failed");
  });

  it("ends a failed stream with an error event", () => {
    const text = encodeEvents(t, request, [{ type: "start", id: "r", model: "m" }, { type: "text", text: "x" }], new GatewayError({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", message: "slow down" }));
    const last = sseEvents(text).at(-1)!;
    expect(last.event).toBe("error");
    expect(JSON.parse(last.data)).toMatchObject({
      type: "error",
      code: "rate_limit_exceeded",
      message: "slow down",
      param: null,
      error: { type: "rate_limit_error", code: "rate_limit_exceeded", message: "slow down", param: null },
    });
    expect(text).not.toContain("response.completed");
  });

  it("surfaces an upstream error event as the matching GatewayError after the text before it", () => {
    const { events, error } = decodeSseError(t, readFixtureText("openai-responses", "stream-error.sse"));
    expect(collectStream(events).text).toBe("Partial");
    expect(error).toMatchObject({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", failure: "stream" });
  });

  it("surfaces response.failed as the error it carries", () => {
    const { error } = decodeSseError(
      t,
      'data: {"type":"response.created","response":{"id":"r","model":"m"}}\n\ndata: {"type":"response.failed","response":{"id":"r","status":"failed","error":{"code":"server_error","message":"boom"}}}\n\n',
    );
    expect(error).toMatchObject({ status: 502, code: "server_error", message: "boom", failure: "stream" });
  });

  const broken: Array<[string, string]> = [
    ["malformed JSON", "event: response.created\ndata: {\"type\":\n\n"],
    ["deltas before response.created", 'data: {"type":"response.output_text.delta","delta":"x"}\n\n'],
    ["arguments for an unknown item", 'data: {"type":"response.created","response":{"id":"r"}}\n\ndata: {"type":"response.function_call_arguments.delta","item_id":"nope","delta":"{"}\n\n'],
    ["a stream cut before response.completed", 'data: {"type":"response.created","response":{"id":"r"}}\n\ndata: {"type":"response.output_text.delta","delta":"x"}\n\n'],
  ];
  for (const [what, sse] of broken) {
    it(`turns ${what} into a 502 GatewayError, never a crash`, () => {
      const { error } = decodeSseError(t, sse);
      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ status: 502, code: "bad_upstream_stream", failure: "stream" });
    });
  }

  it("observes usage from the final response event only", () => {
    const observer = t.createStreamObserver({});
    for (const e of sseEvents(readFixtureText("openai-responses", "stream-reasoning-tools.sse"))) observer.push(e);
    expect(observer.usage).toEqual({ inputTokens: 90, outputTokens: 150, cachedReadTokens: 32, reasoningTokens: 100 });
  });
});
