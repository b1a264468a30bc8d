/**
 * Google's @google/genai SDK reads what this translator writes: a real HTTP server on 127.0.0.1
 * routes `/v1beta/models/:target` like the gateway does and serves encoder output and errors.
 */
import { GoogleGenAI } from "@google/genai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type InboundRequestInfo, type IrResponse, type IrStreamEvent } from "../../../core/index.js";
import plugin from "../../../plugins/format-gemini/index.js";

const t = plugin.translator;
type Handler = (body: Record<string, unknown>, info: InboundRequestInfo, res: ServerResponse) => void;
let handler: Handler = () => undefined;
let server: Server;
let ai: GoogleGenAI;
const seen: string[] = [];

const events: IrStreamEvent[] = [
  { type: "start", id: "resp-sdk", model: "gemini-sdk" },
  { type: "thinking", text: "Two lookups." },
  { type: "text", text: "Checking " },
  { type: "text", text: "both." },
  { type: "thinking", text: "", signature: "CiQBsig" },
  { type: "tool_call", index: 0, id: "call_1", name: "get_weather", argumentsDelta: "{\"city\":\"Paris\"}" },
  { type: "tool_call", index: 1, id: "call_2", name: "get_weather", argumentsDelta: "{\"city\":\"Oslo\"}" },
  { type: "usage", usage: { inputTokens: 40, outputTokens: 20, reasoningTokens: 5 } },
  { type: "finish", finishReason: "tool_calls" },
];

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => resolve(text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {}));
  });
}

function streamEvents(body: Record<string, unknown>, info: InboundRequestInfo, res: ServerResponse, list: IrStreamEvent[], fail?: GatewayError): void {
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
    const url = new URL(req.url ?? "/", "http://localhost");
    seen.push(url.pathname + url.search);
    const target = decodeURIComponent(url.pathname.replace(/^\/v1beta\/models\//, ""));
    const info: InboundRequestInfo = { path: url.pathname, params: { target }, query: Object.fromEntries(url.searchParams) };
    void readBody(req).then((body) => handler(body, info, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  ai = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("format-gemini with the official Google Gen AI SDK", () => {
  it("streams chunks the SDK reads: thoughts, text, function calls with their signature, finish and usage", async () => {
    handler = (body, info, res) => streamEvents(body, info, res, events);
    const stream = await ai.models.generateContentStream({ model: "gemini-sdk", contents: "Weather?" });
    let text = "";
    const calls: unknown[] = [];
    let last: Awaited<ReturnType<typeof stream.next>>["value"];
    for await (const chunk of stream) {
      text += chunk.text ?? "";
      calls.push(...(chunk.functionCalls ?? []));
      last = chunk;
    }
    expect(seen.at(-1)).toBe("/v1beta/models/gemini-sdk:streamGenerateContent?alt=sse");
    expect(text).toBe("Checking both.");
    expect(calls).toEqual([
      { id: "call_1", name: "get_weather", args: { city: "Paris" } },
      { id: "call_2", name: "get_weather", args: { city: "Oslo" } },
    ]);
    expect(last?.candidates?.[0]?.finishReason).toBe("STOP");
    expect(last?.candidates?.[0]?.content?.parts?.[0]?.thoughtSignature).toBe("CiQBsig");
    expect(last?.usageMetadata).toMatchObject({ promptTokenCount: 40, candidatesTokenCount: 15, thoughtsTokenCount: 5, totalTokenCount: 60 });
    expect(last?.responseId).toBe("resp-sdk");
  });

  it("reads a plain reply written by responseFromIr", async () => {
    const response: IrResponse = { id: "resp-plain", model: "gemini-sdk", created: 1, content: [{ type: "text", text: "Hi!" }], finishReason: "stop", usage: { inputTokens: 3, outputTokens: 2 } };
    handler = (body, info, res) => reply(res, 200, t.responseFromIr(response, t.requestToIr(body, info)));
    const result = await ai.models.generateContent({ model: "gemini-sdk", contents: "Hello", config: { temperature: 0.2, systemInstruction: "Be brief." } });
    expect(seen.at(-1)).toBe("/v1beta/models/gemini-sdk:generateContent");
    expect(result.text).toBe("Hi!");
    expect(result.usageMetadata?.totalTokenCount).toBe(5);
  });

  it("sends requests the translator reads: system instruction, config and tools from the SDK's own serialisation", async () => {
    let captured: unknown;
    handler = (body, info, res) => {
      captured = t.requestToIr(body, info);
      reply(res, 200, t.responseFromIr({ id: "r", model: "m", created: 1, content: [{ type: "text", text: "ok" }], finishReason: "stop" }, captured as never));
    };
    await ai.models.generateContent({
      model: "gemini-sdk",
      contents: [{ role: "user", parts: [{ text: "Hi" }] }],
      config: {
        systemInstruction: "Be brief.",
        maxOutputTokens: 64,
        thinkingConfig: { thinkingBudget: 512, includeThoughts: true },
        tools: [{ functionDeclarations: [{ name: "f", description: "does f", parametersJsonSchema: { type: "object", properties: { a: { type: "string" } } } }] }],
      },
    });
    expect(captured).toMatchObject({
      model: "gemini-sdk",
      messages: [
        { role: "system", content: [{ type: "text", text: "Be brief." }] },
        { role: "user", content: [{ type: "text", text: "Hi" }] },
      ],
      maxTokens: 64,
      reasoning: { budgetTokens: 512, includeThoughts: true },
      tools: [{ name: "f", description: "does f", parameters: { type: "object", properties: { a: { type: "string" } } } }],
    });
  });

  it("raises an ApiError with the rendered status for an error reply", async () => {
    handler = (_body, _info, res) => {
      const rendered = t.renderError(new GatewayError({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", message: "Quota exceeded" }));
      reply(res, rendered.status, rendered.body);
    };
    const err = await ai.models.generateContent({ model: "gemini-sdk", contents: "x" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "ApiError", status: 429 });
    expect((err as Error).message).toContain("Quota exceeded");
  });

  it("makes the SDK raise an ApiError with the status and message of an error that ends a stream", async () => {
    // The encoder frames the error as an SSE event and then writes it bare, because Google's SDK
    // raises only on bare JSON that arrives in a network chunk of its own. Each write here waits
    // until the SDK handed the chunk before it to the loop, so every write is read on its own.
    let delivered: () => void = () => undefined;
    handler = (body, info, res) => {
      const writes: string[] = [];
      const encoder = t.createStreamEncoder(t.requestToIr(body, info), (text) => writes.push(text));
      for (const e of events.slice(0, 3)) encoder.push(e);
      encoder.error(new GatewayError({ status: 503, type: "unavailable", code: "c", message: "overloaded" }));
      res.writeHead(200, { "content-type": "text/event-stream" });
      void (async () => {
        for (const [i, text] of writes.entries()) {
          const read = i < writes.length - 1 ? new Promise<void>((resolve) => (delivered = resolve)) : undefined;
          res.write(text);
          await read;
        }
        res.end();
      })();
    };
    const texts: string[] = [];
    const err = await (async () => {
      const stream = await ai.models.generateContentStream({ model: "gemini-sdk", contents: "x" });
      for await (const chunk of stream) {
        texts.push(chunk.text ?? "");
        delivered();
      }
    })().catch((e: unknown) => e);
    expect(texts.join("")).toBe("Checking ");
    expect(err).toMatchObject({ name: "ApiError", status: 503 });
    expect((err as Error).message).toContain("overloaded");
  });

  it("makes the SDK raise, not finish quietly, when the error arrives in one network chunk with the events before it", async () => {
    handler = (body, info, res) => {
      let text = "";
      const encoder = t.createStreamEncoder(t.requestToIr(body, info), (w) => (text += w));
      for (const e of events.slice(0, 3)) encoder.push(e);
      encoder.error(new GatewayError({ status: 503, type: "unavailable", code: "c", message: "overloaded" }));
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(text);
    };
    const err = await (async () => {
      const stream = await ai.models.generateContentStream({ model: "gemini-sdk", contents: "x" });
      for await (const _chunk of stream) {
        // consume
      }
    })().catch((e: unknown) => e);
    // The bare JSON is left over after the last event: the SDK's end-of-stream check raises.
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("Incomplete JSON segment at the end");
  });
});
