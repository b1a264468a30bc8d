/**
 * The official OpenAI SDK reads what this translator writes: a real HTTP server on 127.0.0.1
 * serves encoder output, rendered errors and model listings; the SDK's own parsers consume them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type IrResponse, type IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-chat/index.js";

const t = plugin.translator;
const info = { path: "/v1/chat/completions", params: {}, query: {} };
type Handler = (body: Record<string, unknown>, res: ServerResponse) => void;
let handler: Handler = () => undefined;
let server: Server;
let client: OpenAI;

const events: IrStreamEvent[] = [
  { type: "start", id: "chatcmpl-sdk", model: "gpt-sdk", created: 1700000000 },
  { type: "text", text: "Let me check " },
  { type: "text", text: "both." },
  { type: "tool_call", index: 0, id: "call_1", name: "get_weather", argumentsDelta: "{\"city\":" },
  { type: "tool_call", index: 0, argumentsDelta: "\"Paris\"}" },
  { type: "tool_call", index: 1, id: "call_2", name: "get_weather", argumentsDelta: "{\"city\":\"Oslo\"}" },
  { type: "finish", finishReason: "tool_calls" },
  { type: "usage", usage: { inputTokens: 30, outputTokens: 12, cachedReadTokens: 10, reasoningTokens: 2 } },
];

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => resolve(text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {}));
  });
}

function streamEvents(body: Record<string, unknown>, res: ServerResponse, list: IrStreamEvent[], fail?: GatewayError): void {
  const ir = t.requestToIr(body, info);
  res.writeHead(200, { "content-type": "text/event-stream" });
  const encoder = t.createStreamEncoder(ir, (text) => res.write(text));
  for (const e of list) encoder.push(e);
  if (fail === undefined) encoder.end();
  else encoder.error(fail);
  res.end();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((body) => handler(body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  client = new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: "test-key", maxRetries: 0 });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("format-openai-chat with the official OpenAI SDK", () => {
  it("assembles a streamed reply with parallel tool calls and the usage chunk", async () => {
    handler = (body, res) => streamEvents(body, res, events);
    const stream = client.chat.completions.stream({
      model: "gpt-sdk",
      messages: [{ role: "user", content: "Weather?" }],
      stream_options: { include_usage: true },
    });
    const final = await stream.finalChatCompletion();
    expect(final.id).toBe("chatcmpl-sdk");
    expect(final.choices[0]!.message.content).toBe("Let me check both.");
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(final.choices[0]!.message.tool_calls).toEqual([
      { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } },
      { id: "call_2", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Oslo\"}" } },
    ]);
    expect(final.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 12, total_tokens: 42, prompt_tokens_details: { cached_tokens: 10 } });
  });

  it("iterates raw chunks: every chunk has one choice until the usage chunk", async () => {
    handler = (body, res) => streamEvents(body, res, events);
    const stream = await client.chat.completions.create({
      model: "gpt-sdk",
      messages: [{ role: "user", content: "Weather?" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const seen: number[] = [];
    for await (const chunk of stream) seen.push(chunk.choices.length);
    expect(seen.at(-1)).toBe(0);
    expect(seen.slice(0, -1).every((n) => n === 1)).toBe(true);
  });

  it("reads a plain reply written by responseFromIr", async () => {
    const reply: IrResponse = {
      id: "chatcmpl-plain",
      model: "gpt-sdk",
      created: 1700000000,
      content: [{ type: "text", text: "Hi!" }],
      finishReason: "stop",
      usage: { inputTokens: 5, outputTokens: 2 },
    };
    handler = (body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(t.responseFromIr(reply, t.requestToIr(body, info))));
    };
    const completion = await client.chat.completions.create({ model: "gpt-sdk", messages: [{ role: "user", content: "Hello" }] });
    expect(completion.choices[0]!.message).toMatchObject({ role: "assistant", content: "Hi!" });
    expect(completion.usage?.total_tokens).toBe(7);
  });

  it("raises the SDK's RateLimitError for a rendered 429", async () => {
    handler = (_body, res) => {
      const rendered = t.renderError(new GatewayError({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", message: "Too many requests" }));
      res.writeHead(rendered.status, { "content-type": "application/json" });
      res.end(JSON.stringify(rendered.body));
    };
    const err = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "rate_limit_exceeded", type: "rate_limit_error", message: expect.stringContaining("Too many requests") });
  });

  it("raises an APIError when the stream ends with an error event", async () => {
    handler = (body, res) =>
      streamEvents(body, res, events.slice(0, 3), new GatewayError({ status: 502, type: "upstream_error", code: "upstream_failed", message: "upstream broke" }));
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }], stream: true });
    const err = await (async () => {
      for await (const _chunk of stream) {
        // consume
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain("upstream broke");
  });

  it("lists models in the shape the SDK pages over", async () => {
    handler = (_body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(t.renderModels!([{ id: "gpt-4o", ownedBy: "openai" }, { id: "claude-x", ownedBy: "anthropic" }])));
    };
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(["gpt-4o", "claude-x"]);
  });
});
