import { describe, expect, it } from "vitest";
import { GatewayError, type IrRequest, type IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-chat/index.js";
import { collectStream, decodeSse, decodeSseError, encodeEvents, readFixture, readFixtureText, sseEvents, type StreamResult, usageView } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; file: string; result: Partial<StreamResult> }>>("openai-chat", "streams.json");
const request: IrRequest = { model: "gpt-4o", stream: true, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

const toolStream: IrStreamEvent[] = [
  { type: "start", id: "msg_1", model: "claude-x", created: 1700000000 },
  { type: "thinking", text: "Both cities." },
  { type: "thinking", text: "", signature: "sig==" },
  { type: "text", text: "Checking." },
  { type: "tool_call", index: 1, id: "toolu_a", name: "get_weather", argumentsDelta: "" },
  { type: "tool_call", index: 1, argumentsDelta: "{\"city\":" },
  { type: "tool_call", index: 1, argumentsDelta: "\"Paris\"}" },
  { type: "tool_call", index: 2, id: "toolu_b", name: "get_weather", argumentsDelta: "{\"city\":\"Oslo\"}" },
  { type: "usage", usage: { inputTokens: 50, outputTokens: 30, cachedReadTokens: 40 } },
  { type: "finish", finishReason: "tool_calls" },
];

describe("format-openai-chat streams", () => {
  for (const f of fixtures) {
    it(`decodes a recorded stream: ${f.name}`, () => {
      const result = collectStream(decodeSse(t, readFixtureText("openai-chat", f.file)));
      expect(result).toMatchObject(f.result);
      if (f.result.usage === undefined) expect(result.usage).toBeUndefined();
    });
    it(`re-encodes a decoded stream and decodes it to the same result: ${f.name}`, () => {
      const events = decodeSse(t, readFixtureText("openai-chat", f.file));
      const again = collectStream(decodeSse(t, encodeEvents(t, { ...request, streamUsage: true }, events)));
      const first = collectStream(events);
      expect({ ...again, usage: usageView(again.usage) }).toEqual({ ...first, usage: usageView(first.usage) });
    });
  }

  it("decodes the start, every delta kind and the finish as separate IR events in order", () => {
    const events = decodeSse(t, readFixtureText("openai-chat", "stream-parallel-tools.sse"));
    expect(events.map((e) => e.type)).toEqual(["start", "tool_call", "tool_call", "tool_call", "tool_call", "tool_call", "finish"]);
    expect(events[0]).toEqual({ type: "start", id: "chatcmpl-tc", model: "gpt-4.1-2025-04-14", created: 1741570300 });
  });

  it("encodes chunks the OpenAI way: role first, dense tool indexes, finish, usage chunk with empty choices, [DONE]", () => {
    const chunks = sseEvents(encodeEvents(t, { ...request, streamUsage: true }, toolStream));
    expect(chunks.at(-1)).toEqual({ data: "[DONE]" });
    const bodies = chunks.slice(0, -1).map((c) => JSON.parse(c.data) as Record<string, any>);
    for (const b of bodies) expect(b).toMatchObject({ id: "msg_1", object: "chat.completion.chunk", created: 1700000000, model: "claude-x" });
    expect(bodies[0]!.choices[0]).toEqual({ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null });
    expect(bodies[1]!.choices[0].delta).toEqual({ reasoning_content: "Both cities." });
    expect(bodies[2]!.choices[0].delta).toEqual({ content: "Checking." });
    expect(bodies[3]!.choices[0].delta).toEqual({ tool_calls: [{ index: 0, id: "toolu_a", type: "function", function: { name: "get_weather", arguments: "" } }] });
    expect(bodies[4]!.choices[0].delta).toEqual({ tool_calls: [{ index: 0, function: { arguments: "{\"city\":" } }] });
    expect(bodies[6]!.choices[0].delta.tool_calls[0]).toMatchObject({ index: 1, id: "toolu_b" });
    expect(bodies[7]!.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "tool_calls" });
    expect(bodies[8]).toMatchObject({ choices: [], usage: { prompt_tokens: 50, completion_tokens: 30, total_tokens: 80, prompt_tokens_details: { cached_tokens: 40 } } });
    expect(bodies).toHaveLength(9);
  });

  it("sends no usage chunk when the client did not ask for include_usage", () => {
    const chunks = sseEvents(encodeEvents(t, request, toolStream)).slice(0, -1);
    expect(chunks.every((c) => (JSON.parse(c.data) as { choices: unknown[] }).choices.length === 1)).toBe(true);
  });

  it("ends a failed stream with an OpenAI error event and no [DONE]", () => {
    const err = new GatewayError({ status: 503, type: "unavailable", code: "upstream_overloaded", message: "backend overloaded" });
    const text = encodeEvents(t, request, [{ type: "start", id: "c1", model: "m" }, { type: "text", text: "par" }], err);
    const chunks = sseEvents(text);
    expect(JSON.parse(chunks.at(-1)!.data)).toEqual({ error: { message: "backend overloaded", type: "service_unavailable_error", code: "upstream_overloaded", param: null } });
    expect(text).not.toContain("[DONE]");
  });

  it("invents an id and keeps the request's model when no start event came", () => {
    const chunks = sseEvents(encodeEvents(t, request, [{ type: "text", text: "x" }, { type: "finish", finishReason: "stop" }]));
    const first = JSON.parse(chunks[0]!.data) as { id: string; model: string };
    expect(first.id).toMatch(/^chatcmpl-/);
    expect(first.model).toBe("gpt-4o");
  });

  it("surfaces an upstream error event as a GatewayError after the events before it", () => {
    const { events, error } = decodeSseError(t, readFixtureText("openai-chat", "stream-error.sse"));
    expect(collectStream(events).text).toBe("Partial");
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 502, type: "upstream_error", failure: "stream", message: expect.stringContaining("server had an error") });
  });

  const broken: Array<[string, string, string]> = [
    ["malformed JSON", 'data: {"id":"x","choices":[{"delta":{"content":"a"}\n\n', "bad_upstream_stream"],
    ["a chunk that is not an object", "data: [1,2]\n\n", "bad_upstream_stream"],
    ["choices that are not an array", 'data: {"id":"x","choices":{}}\n\n', "bad_upstream_stream"],
    ["a tool call delta without index", 'data: {"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"id":"c"}]}}]}\n\n', "bad_upstream_stream"],
    ["a stream cut before any finish", 'data: {"id":"x","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n', "bad_upstream_stream"],
    ["a rate limit error event", 'data: {"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}\n\n', "rate_limit_exceeded"],
  ];
  for (const [what, sse, code] of broken) {
    it(`turns ${what} into a GatewayError, never a crash`, () => {
      const { error } = decodeSseError(t, sse);
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).code).toBe(code);
      expect((error as GatewayError).failure).toBe("stream");
    });
  }

  it("ignores input after it failed", () => {
    const events: IrStreamEvent[] = [];
    const decoder = t.createStreamDecoder((e) => events.push(e));
    expect(() => decoder.push({ data: "{nope" })).toThrow(GatewayError);
    decoder.push({ data: '{"id":"x","choices":[{"index":0,"delta":{"content":"late"},"finish_reason":"stop"}]}' });
    expect(() => decoder.end()).not.toThrow();
    expect(events).toEqual([]);
  });

  it("accepts a lenient server's [DONE] without a finish reason as a stop", () => {
    const events = decodeSse(t, 'data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}\n\ndata: [DONE]\n\n');
    expect(collectStream(events)).toMatchObject({ text: "a", finishReason: "stop" });
  });

  it("observes usage in a passed-through stream, parsing only the usage chunk", () => {
    const observer = t.createStreamObserver({ stream: true, stream_options: { include_usage: true } });
    const kept = sseEvents(readFixtureText("openai-chat", "stream-text-usage.sse")).filter((e) => observer.push(e) !== false);
    expect(observer.usage).toEqual({ inputTokens: 19, outputTokens: 3, cachedReadTokens: 0, reasoningTokens: 0 });
    expect(observer.filters).toBe(false);
    expect(kept.some((e) => e.data.includes('"prompt_tokens"'))).toBe(true);
    const quiet = t.createStreamObserver({ stream: true });
    quiet.push({ data: '{"usage":{"prompt_tokens": oops' });
    quiet.push({ data: "[DONE]" });
    expect(quiet.usage).toBeUndefined();
  });

  it("reads usage but holds back the usage-only chunk from a client that did not ask for it", () => {
    const observer = t.createStreamObserver({ stream: true });
    expect(observer.filters).toBe(true);
    const events = sseEvents(readFixtureText("openai-chat", "stream-text-usage.sse"));
    const kept = events.filter((e) => observer.push(e) !== false);
    expect(observer.usage).toMatchObject({ inputTokens: 19, outputTokens: 3 });
    expect(kept).toHaveLength(events.length - 1);
    expect(kept.some((e) => e.data.includes('"prompt_tokens"'))).toBe(false);
    expect(kept.at(-1)!.data).toBe("[DONE]");
  });
});
