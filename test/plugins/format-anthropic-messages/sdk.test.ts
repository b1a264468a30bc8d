/**
 * The official Anthropic SDK reads what this translator writes: a real HTTP server on 127.0.0.1
 * serves encoder output, rendered errors and model listings to the SDK's own stream accumulator.
 */
import Anthropic from "@anthropic-ai/sdk";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type IrResponse, type IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-anthropic-messages/index.js";

const t = plugin.translator;
const info = { path: "/v1/messages", params: {}, query: {} };
type Handler = (body: Record<string, unknown>, res: ServerResponse) => void;
let handler: Handler = () => undefined;
let server: Server;
let client: Anthropic;

const events: IrStreamEvent[] = [
  { type: "start", id: "msg_sdk", model: "claude-sdk" },
  { type: "thinking", text: "Two calls." },
  { type: "thinking", text: "", signature: "EqQBsig" },
  { type: "text", text: "Checking " },
  { type: "text", text: "both." },
  { type: "tool_call", index: 0, id: "toolu_1", name: "get_weather", argumentsDelta: "{\"city\":" },
  { type: "tool_call", index: 0, argumentsDelta: "\"Paris\"}" },
  { type: "tool_call", index: 1, id: "toolu_2", name: "get_weather", argumentsDelta: "{\"city\":\"Oslo\"}" },
  { type: "finish", finishReason: "tool_calls" },
  { type: "usage", usage: { inputTokens: 1200, outputTokens: 80, cachedReadTokens: 1000, cacheWriteTokens: 100 } },
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

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((body) => handler(body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  client = new Anthropic({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: "test-key", maxRetries: 0 });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const params = { model: "claude-sdk", max_tokens: 1024, messages: [{ role: "user" as const, content: "Weather?" }] };

describe("format-anthropic-messages with the official Anthropic SDK", () => {
  it("accumulates a streamed message: thinking with signature, text, parallel tool use, stop reason and usage", async () => {
    handler = (body, res) => streamEvents(body, res, events);
    const message = await client.messages.stream(params).finalMessage();
    expect(message.id).toBe("msg_sdk");
    expect(message.content).toEqual([
      { type: "thinking", thinking: "Two calls.", signature: "EqQBsig" },
      { type: "text", text: "Checking both." },
      { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_2", name: "get_weather", input: { city: "Oslo" } },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 1000, cache_creation_input_tokens: 100, output_tokens: 80 });
  });

  it("reads a plain message written by responseFromIr", async () => {
    const response: IrResponse = { id: "msg_plain", model: "claude-sdk", created: 1, content: [{ type: "text", text: "Hi!" }], finishReason: "stop", usage: { inputTokens: 5, outputTokens: 2 } };
    handler = (body, res) => reply(res, 200, t.responseFromIr(response, t.requestToIr(body, info)));
    const message = await client.messages.create(params);
    expect(message.content).toEqual([{ type: "text", text: "Hi!" }]);
    expect(message.usage).toMatchObject({ input_tokens: 5, output_tokens: 2 });
  });

  it("raises the SDK's RateLimitError for a rendered 429", async () => {
    handler = (_body, res) => {
      const rendered = t.renderError(new GatewayError({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", message: "Too many requests" }));
      reply(res, rendered.status, rendered.body);
    };
    const err = await client.messages.create(params).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.RateLimitError>).error).toEqual({ type: "error", error: { type: "rate_limit_error", message: "Too many requests" } });
  });

  it("raises an APIError when the stream ends with an error event", async () => {
    handler = (body, res) => streamEvents(body, res, events.slice(0, 4), new GatewayError({ status: 503, type: "unavailable", code: "overloaded", message: "Overloaded" }));
    const err = await client.messages.stream(params).finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as Error).message).toContain("Overloaded");
  });

  it("lists models in the page shape the SDK iterates", async () => {
    handler = (_body, res) => reply(res, 200, t.renderModels!([{ id: "claude-a", ownedBy: "anthropic" }, { id: "claude-b", ownedBy: "anthropic" }]));
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(["claude-a", "claude-b"]);
  });
});
