/**
 * The official OpenAI SDK's Responses helpers read what this translator writes: a real HTTP server
 * on 127.0.0.1 serves encoder output, plain responses and rendered errors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type IrResponse, type IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-responses/index.js";

const t = plugin.translator;
const info = { path: "/v1/responses", params: {}, query: {} };
type Handler = (body: Record<string, unknown>, res: ServerResponse) => void;
let handler: Handler = () => undefined;
let server: Server;
let client: OpenAI;

const events: IrStreamEvent[] = [
  { type: "start", id: "resp_sdk", model: "gpt-sdk", created: 1700000000 },
  { type: "thinking", text: "Two calls." },
  { type: "thinking", text: "", signature: "gAAAAsig" },
  { type: "text", text: "Checking " },
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

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
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

describe("format-openai-responses with the official OpenAI SDK", () => {
  it("assembles a streamed response: reasoning with encrypted content, text, parallel function calls and usage", async () => {
    handler = (body, res) => streamEvents(body, res, events);
    const stream = client.responses.stream({ model: "gpt-sdk", input: "Weather?", reasoning: { effort: "low", summary: "auto" } });
    let text = "";
    stream.on("response.output_text.delta", (e) => (text += e.delta));
    const final = await stream.finalResponse();
    expect(text).toBe("Checking both.");
    expect(final.id).toBe("resp_sdk");
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe("Checking both.");
    expect(final.output.map((i) => i.type)).toEqual(["reasoning", "message", "function_call", "function_call"]);
    expect(final.output[0]).toMatchObject({ summary: [{ type: "summary_text", text: "Two calls." }], encrypted_content: "gAAAAsig" });
    expect(final.output.slice(2)).toMatchObject([
      { call_id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
      { call_id: "call_2", name: "get_weather", arguments: "{\"city\":\"Oslo\"}" },
    ]);
    expect(final.usage).toMatchObject({ input_tokens: 30, output_tokens: 12, total_tokens: 42, input_tokens_details: { cached_tokens: 10 } });
  });

  it("reads a plain response written by responseFromIr, output_text included", async () => {
    const response: IrResponse = { id: "resp_plain", model: "gpt-sdk", created: 1700000000, content: [{ type: "text", text: "Hi!" }], finishReason: "stop", usage: { inputTokens: 5, outputTokens: 2 } };
    handler = (body, res) => reply(res, 200, t.responseFromIr(response, t.requestToIr(body, info)));
    const result = await client.responses.create({ model: "gpt-sdk", input: [{ role: "user", content: "Hello" }], instructions: "Be brief." });
    expect(result.output_text).toBe("Hi!");
    expect(result.usage?.total_tokens).toBe(7);
  });

  it("raises the SDK's RateLimitError for a rendered 429", async () => {
    handler = (_body, res) => {
      const rendered = t.renderError(new GatewayError({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", message: "Too many requests" }));
      reply(res, rendered.status, rendered.body);
    };
    const err = await client.responses.create({ model: "m", input: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
  });

  it("raises an error when the stream ends with an error event", async () => {
    handler = (body, res) => streamEvents(body, res, events.slice(0, 4), new GatewayError({ status: 502, type: "upstream_error", code: "upstream_failed", message: "upstream broke" }));
    const err = await client.responses.stream({ model: "m", input: "x" }).finalResponse().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain("upstream broke");
  });
});
