import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { GatewayError, type SseEvent, type UpstreamCall } from "../../../core/index.js";
import { SseParser } from "../../../lib/wire/sse.js";
import { upstreamStatusError } from "../../../lib/upstream/errors.js";
import { configFor, createTestProvider } from "../../../testkit/index.js";
import providerMock from "../../../plugins/provider-mock/index.js";
import { geminiTranslator } from "../../../plugins/format-gemini/index.js";
import { liteFormats, openAiChatLite } from "../../support/openai-chat-lite.js";
import { RequestEnd } from "../../../core/index.js";

function mock(config: Record<string, unknown> = {}, formats = liteFormats(openAiChatLite)) {
  return createTestProvider(providerMock, config, { formats });
}

function call(overrides: Partial<UpstreamCall> & { content?: string } = {}): UpstreamCall {
  const { content = "hi there", ...rest } = overrides;
  const stream = rest.stream ?? false;
  return {
    format: "openai-chat",
    model: "mock-1",
    body: { model: "mock-1", messages: [{ role: "user", content }], stream, ...(stream ? { stream_options: { include_usage: true } } : {}) },
    stream,
    end: new RequestEnd(),
    requestId: "req-1",
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
    ...rest,
  };
}

async function readText(body: Readable): Promise<string> {
  let text = "";
  for await (const chunk of body) text += chunk.toString();
  return text;
}

/** Every body chunk as it arrived, with its SSE events, and the error that ended the body if any. */
async function readChunks(body: Readable): Promise<{ chunks: string[]; events: SseEvent[]; error?: unknown }> {
  const chunks: string[] = [];
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  try {
    for await (const chunk of body) {
      chunks.push(chunk.toString());
      parser.push(chunk);
    }
    parser.end();
    return { chunks, events };
  } catch (error) {
    return { chunks, events, error };
  }
}

function contentOf(events: SseEvent[]): string {
  return events
    .filter((e) => e.data !== "[DONE]")
    .map((e) => JSON.parse(e.data) as { choices: Array<{ delta: { content?: string } }> })
    .map((c) => c.choices[0]?.delta.content ?? "")
    .join("");
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("expected the call to fail"),
    (err: unknown) => err,
  );
}

describe("provider-mock replies", () => {
  it("answers a plain call with the format's JSON body and the default text", async () => {
    const provider = await mock();
    const reply = await provider.send(call());
    expect(reply.status).toBe(200);
    expect(reply.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(await readText(reply.body));
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "mock-1",
      choices: [{ message: { role: "assistant", content: "Hello from switchyard's mock provider." }, finish_reason: "stop" }],
    });
    // ~4 characters per token: "hi there" is 8 characters, the reply 38.
    expect(body.usage).toEqual({ prompt_tokens: 2, completion_tokens: 10, total_tokens: 12 });
  });

  it("echoes the last user message when echo is on", async () => {
    const provider = await mock({ echo: true });
    const body = JSON.parse(await readText((await provider.send(call({ content: "repeat after me" }))).body));
    expect(body.choices[0].message.content).toBe("repeat after me");
  });

  it("reports fixed usage when configured", async () => {
    const provider = await mock({ usage: { inputTokens: 100, outputTokens: 7 } });
    const body = JSON.parse(await readText((await provider.send(call())).body));
    expect(body.usage).toEqual({ prompt_tokens: 100, completion_tokens: 7, total_tokens: 107 });
  });

  it("refuses fixed usage whose cache or reasoning tokens exceed the totals they are part of", async () => {
    await expect(mock({ usage: { inputTokens: 10, outputTokens: 5, cachedReadTokens: 8, cacheWriteTokens: 3 } })).rejects.toThrow(
      "provider-mock: usage.cachedReadTokens + usage.cacheWriteTokens must not exceed usage.inputTokens",
    );
    await expect(mock({ usage: { inputTokens: 10, outputTokens: 5, reasoningTokens: 6 } })).rejects.toThrow("usage.reasoningTokens must not exceed usage.outputTokens");
    await expect(mock({ usage: { inputTokens: 10, outputTokens: 5, cachedReadTokens: 6, cacheWriteTokens: 4, reasoningTokens: 5 } })).resolves.toBeDefined();
  });

  it("gives repeatable ids per call when seeded", async () => {
    const provider = await mock({ seed: 7 });
    const first = JSON.parse(await readText((await provider.send(call())).body));
    const second = JSON.parse(await readText((await provider.send(call())).body));
    expect([first.id, second.id]).toEqual(["mock-7-1", "mock-7-2"]);
  });

  it("streams the format's SSE framing: opening, one chunk per delta, finish, usage, [DONE]", async () => {
    const provider = await mock({ reply: "abcdefghij", chunks: 3, chunkDelayMs: 2, seed: 1 });
    const reply = await provider.send(call({ stream: true }));
    expect(reply.headers["content-type"]).toMatch(/^text\/event-stream/);
    const { chunks, events, error } = await readChunks(reply.body);
    expect(error).toBeUndefined();
    // Opening, three deltas, then the closing chunk with finish, usage and [DONE].
    expect(chunks).toHaveLength(5);
    expect(chunks.slice(1, 4).map((c) => contentOf(parse(c)))).toEqual(["abcd", "efg", "hij"]);
    expect(contentOf(events)).toBe("abcdefghij");
    const last = events.at(-1)!;
    expect(last.data).toBe("[DONE]");
    const [finish, usage] = events.slice(-3, -1).map((e) => JSON.parse(e.data));
    expect(finish.choices[0].finish_reason).toBe("stop");
    expect(usage).toMatchObject({ id: "mock-1-1", choices: [], usage: { prompt_tokens: 2, completion_tokens: 3 } });
  });

  it("replies with a tool call when asked to and the request offers tools", async () => {
    const provider = await mock({ toolCalls: true, toolArguments: { city: "Oslo" }, seed: 3 });
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
    const body = JSON.parse(await readText((await provider.send(call({ body: { model: "m", messages: [{ role: "user", content: "weather?" }], tools } }))).body));
    expect(body.choices[0]).toMatchObject({
      finish_reason: "tool_calls",
      message: { content: null, tool_calls: [{ id: "call_mock_3_1", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] },
    });

    const plain = JSON.parse(await readText((await provider.send(call())).body));
    expect(plain.choices[0].message.content).toBe("Hello from switchyard's mock provider.");
  });

  it("streams a tool call's arguments in pieces that join to the JSON", async () => {
    const provider = await mock({ toolCalls: true, toolArguments: { city: "Oslo" }, chunks: 4 });
    const tools = [{ type: "function", function: { name: "get_weather" } }];
    const reply = await provider.send(call({ stream: true, body: { model: "m", messages: [{ role: "user", content: "?" }], tools, stream: true } }));
    const { events } = await readChunks(reply.body);
    const deltas = events
      .filter((e) => e.data !== "[DONE]")
      .flatMap((e) => (JSON.parse(e.data).choices[0]?.delta.tool_calls ?? []) as Array<{ id?: string; function: { name?: string; arguments: string } }>);
    expect(deltas).toHaveLength(4);
    expect(deltas[0]!.function.name).toBe("get_weather");
    expect(deltas.map((d) => d.function.arguments).join("")).toBe('{"city":"Oslo"}');
  });

  it("speaks every registered format, including ones registered after it was built", async () => {
    const formats = liteFormats(openAiChatLite);
    const provider = await mock({}, formats);
    expect(provider.formats).toEqual(["openai-chat"]);
    formats.add(openAiChatLite, "openai-chat-late");
    expect(provider.formats).toEqual(["openai-chat", "openai-chat-late"]);
    const reply = await provider.send(call({ format: "openai-chat-late" }));
    expect(reply.status).toBe(200);
    await readText(reply.body);
  });

  it("answers Gemini calls, whose model and method travel in the path, plain and streamed", async () => {
    const provider = await mock({ reply: "Hi from Gemini." }, liteFormats(geminiTranslator));
    const body = { contents: [{ role: "user", parts: [{ text: "hello" }] }] };
    const plain = await provider.send(call({ format: "gemini", model: "gemini-2.0-flash", body }));
    const json = JSON.parse(await readText(plain.body));
    expect(json.candidates[0].content.parts[0].text).toBe("Hi from Gemini.");
    expect(json.candidates[0].finishReason).toBe("STOP");
    const streamed = await provider.send(call({ format: "gemini", model: "gemini-2.0-flash", body, stream: true }));
    const { events } = await readChunks(streamed.body);
    const text = events.map((e) => JSON.parse(e.data).candidates?.[0]?.content?.parts?.[0]?.text ?? "").join("");
    expect(text).toBe("Hi from Gemini.");
  });

  it("fails with a 500 naming the format when the call's format is not registered", async () => {
    const provider = await mock();
    const err = await rejection(provider.send(call({ format: "nope" })));
    expect(err).toMatchObject({ status: 500, code: "format_not_registered" });
  });

  it("answers a body its format rejects as an upstream 400 would", async () => {
    const provider = await mock();
    const err = await rejection(provider.send(call({ body: { model: "m", messages: "nope" } })));
    expect(err).toMatchObject({ status: 400, type: "invalid_request", failure: "status", upstreamStatus: 400, param: "messages" });
  });
});

describe("provider-mock failure modes", () => {
  it.each([
    [429, 429, "rate_limit"],
    [500, 502, "upstream_error"],
    [503, 503, "unavailable"],
    [401, 401, "authentication"],
  ])("fail with status %i produces the same GatewayError a real upstream %i would (%s)", async (status, gatewayStatus, type) => {
    const provider = await mock({ fail: { status, message: "scripted", retryAfterMs: 1500 } });
    const err = (await rejection(provider.send(call()))) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: gatewayStatus, type, failure: "status", upstreamStatus: status, retryAfterMs: 1500, message: "scripted" });
    const real = upstreamStatusError({ status, message: "scripted", retryAfterMs: 1500, source: "provider-mock" });
    expect({ ...err, message: err.message }).toEqual({ ...real, message: real.message });
  });

  it("fails only the first `times` calls, then succeeds", async () => {
    const provider = await mock({ fail: { status: 503, times: 2 } });
    await expect(provider.send(call())).rejects.toMatchObject({ status: 503 });
    await expect(provider.send(call())).rejects.toMatchObject({ status: 503 });
    const reply = await provider.send(call());
    expect(reply.status).toBe(200);
    await readText(reply.body);
  });

  it("fails with a seeded probability that repeats across instances", async () => {
    const outcomes = async (): Promise<boolean[]> => {
      const provider = await mock({ seed: 42, fail: { status: 500, probability: 0.5 } });
      const results: boolean[] = [];
      for (let i = 0; i < 20; i++) {
        results.push(
          await provider.send(call()).then(
            (r) => (r.body.destroy(), true),
            () => false,
          ),
        );
      }
      return results;
    };
    const first = await outcomes();
    expect(await outcomes()).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });

  it("fails as a refused connection with connectError", async () => {
    const provider = await mock({ connectError: true, latencyMs: 60_000 });
    await expect(provider.send(call())).rejects.toMatchObject({ status: 502, type: "upstream_error", failure: "connect", code: "upstream_connect_failed" });
  });

  it("hangs until the call's headers timeout, then fails as a timeout", async () => {
    const provider = await mock({ hangMs: 60_000 });
    await expect(provider.send(call({ headersTimeoutMs: 20 }))).rejects.toMatchObject({ status: 504, type: "timeout", failure: "timeout", code: "upstream_headers_timeout" });
  });

  it("fails a hang shorter than the headers timeout as a timeout when it ends", async () => {
    const provider = await mock({ hangMs: 10 });
    await expect(provider.send(call())).rejects.toMatchObject({ status: 504, failure: "timeout" });
  });

  it("rejects with the abort reason when aborted while hanging", async () => {
    const provider = await mock({ hangMs: 60_000 });
    const controller = new RequestEnd();
    const pending = provider.send(call({ end: controller }));
    const reason = new Error("client went away");
    controller.abort(reason);
    expect(await rejection(pending)).toBe(reason);
  });

  it("fails as a headers timeout when latency exceeds it, and answers when it does not", async () => {
    const slow = await mock({ latencyMs: 60_000 });
    await expect(slow.send(call({ headersTimeoutMs: 20 }))).rejects.toMatchObject({ status: 504, code: "upstream_headers_timeout" });
    const fine = await mock({ latencyMs: 10 });
    const reply = await fine.send(call({ headersTimeoutMs: 5_000 }));
    expect(reply.status).toBe(200);
    await readText(reply.body);
  });

  it("breaks a stream off after dropAfterChunks deltas with a stream failure and no [DONE]", async () => {
    const provider = await mock({ reply: "abcdefgh", chunks: 4, dropAfterChunks: 2 });
    const { events, error } = await readChunks((await provider.send(call({ stream: true }))).body);
    expect(error).toMatchObject({ status: 502, failure: "stream", code: "upstream_stream_dropped" });
    expect(contentOf(events)).toBe("abcd");
    expect(events.some((e) => e.data === "[DONE]")).toBe(false);
  });

  it("breaks off before the finish when dropAfterChunks is at least the delta count", async () => {
    const provider = await mock({ reply: "abcd", chunks: 2, dropAfterChunks: 10 });
    const { events, error } = await readChunks((await provider.send(call({ stream: true }))).body);
    expect(error).toMatchObject({ failure: "stream" });
    expect(contentOf(events)).toBe("abcd");
    expect(events.some((e) => e.data.includes("finish_reason\":\"stop"))).toBe(false);
  });

  it("fails the body with a timeout when the chunk delay exceeds the body timeout", async () => {
    const provider = await mock({ chunkDelayMs: 60_000 });
    const { chunks, error } = await readChunks((await provider.send(call({ stream: true, bodyTimeoutMs: 20 }))).body);
    expect(chunks).toHaveLength(1);
    expect(error).toMatchObject({ status: 504, failure: "timeout", code: "upstream_idle_timeout" });
  });

  it("stops a stream and destroys its body when the call is aborted", async () => {
    const provider = await mock({ chunks: 10, chunkDelayMs: 60_000 });
    const controller = new RequestEnd();
    const reply = await provider.send(call({ stream: true, end: controller }));
    const reason = new Error("client went away");
    const reading = readChunks(reply.body);
    setTimeout(() => controller.abort(reason), 10);
    const { chunks, error } = await reading;
    expect(error).toBe(reason);
    expect(chunks).toHaveLength(1);
    expect(reply.body.destroyed).toBe(true);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const provider = await mock();
    const controller = new RequestEnd();
    controller.abort(new Error("gone"));
    await expect(provider.send(call({ end: controller }))).rejects.toThrow("gone");
  });
});

describe("provider-mock token counts", () => {
  it("estimates about 4 characters per token over the request's text, tools included, structure names excluded", async () => {
    const provider = await mock();
    // No max_tokens: a count request (Anthropic's count_tokens) need not be a valid generate request.
    const body = { model: "claude-x", system: "Be brief.", messages: [{ role: "user", content: [{ type: "text", text: "Hello there" }] }], tools: [{ name: "f", description: "does f" }] };
    expect(await provider.countTokens!(call({ format: "anthropic-messages", body }))).toEqual({ inputTokens: Math.ceil("Be brief.Hello therefdoes f".length / 4) });
  });

  it("answers the fixed usage's input tokens, and fails as a refused connection with connectError", async () => {
    expect(await (await mock({ usage: { inputTokens: 77, outputTokens: 1 } })).countTokens!(call())).toEqual({ inputTokens: 77 });
    expect(await rejection((await mock({ connectError: true })).countTokens!(call()))).toMatchObject({ status: 502, failure: "connect" });
  });
});

describe("provider-mock config", () => {
  it("applies schema defaults", () => {
    expect(configFor(providerMock, {})).toMatchObject({ reply: "Hello from switchyard's mock provider.", chunks: 4, latencyMs: 0, echo: false });
  });

  it("rejects unknown keys and a fail without status", () => {
    expect(() => configFor(providerMock, { replly: "x" })).toThrow(/unknown property "replly"/);
    expect(() => configFor(providerMock, { fail: { message: "x" } })).toThrow(/missing required property "status"/);
  });
});

function parse(chunk: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  parser.push(chunk);
  parser.end();
  return events;
}
