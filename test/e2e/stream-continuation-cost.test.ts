/**
 * A continued stream is priced per backend: the first attempt (a Gemini backend, whose chunks
 * carry their usage) breaks with a TCP reset after two chunks, the second (an OpenAI backend)
 * finishes the answer, and the record's cost is each attempt's own usage at its own model's
 * price, summed — not the summed usage at the last backend's price.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RequestRecord } from "../../core/index.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { waitForRecords } from "../support/records.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";

/** Gemini's stream: every chunk carries usageMetadata so far; the socket is reset after the second. */
function startBreakingGemini(): Promise<{ server: Server; url: string }> {
  const chunk = (text: string, candidates: number) =>
    `data: ${JSON.stringify({ candidates: [{ content: { role: "model", parts: [{ text }] }, index: 0 }], usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: candidates, totalTokenCount: 1000 + candidates } })}\r\n\r\n`;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunk("The quick brown fox ", 10));
      res.write(chunk("jumps over", 20), () => setImmediate(() => req.socket.resetAndDestroy()));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

let gemini: { server: Server; url: string };
let openai: OpenAiUpstream;
let gw: TestGateway;

beforeAll(async () => {
  gemini = await startBreakingGemini();
  openai = await startOpenAiUpstream({ reply: " the lazy dog.", chunks: 2, usage: { prompt_tokens: 1200, completion_tokens: 30 } });
  gw = await startGateway({
    "pricing.json": { currency: "USD", updated: "2026-12-01", models: { "gemini-first": { input: 1, output: 4 }, "gpt-second": { input: 2.5, output: 10 } } },
    "continued.pipeline.json": {
      id: "continued",
      routes: [{ method: "POST", path: "/v1/chat/completions", format: "openai-chat" }],
      backends: {
        first: { use: "provider-gemini", models: ["gpt-4o"], modelMap: { "gpt-4o": "gemini-first" }, config: { baseUrl: gemini.url, apiKey: "gemini-key-0000" } },
        second: { use: "provider-openai", models: ["gpt-4o"], modelMap: { "gpt-4o": "gpt-second" }, config: { baseUrl: openai.url, apiKey: "sk-upstream-second-000" } },
      },
      steps: [
        { use: "translate", config: { continuation: { maxContinuations: 1 } } },
        { use: "stream-sse" },
        { use: "cost", config: { pricingFile: "./pricing.json" } },
        { use: "record-jsonl", config: { path: "./records.jsonl", batchSize: 1 } },
      ],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await openai?.close();
  await new Promise((resolve) => gemini?.server.close(resolve));
});

it("prices each attempt of a continued stream at its own backend's model and records the sum", async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-client" },
    body: JSON.stringify({ model: "gpt-4o", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Tell me about the fox." }] }),
  });
  expect(res.status).toBe(200);
  const events = (await res.text()).split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)));
  expect(events.map((e) => e.choices[0]?.delta?.content ?? "").join("")).toBe("The quick brown fox jumps over the lazy dog.");
  const [record] = (await waitForRecords(`${gw.dir}/records.jsonl`, (records) => records.length > 0)) as RequestRecord[];
  expect(record!.attempts.map((a) => [a.backend, a.model, a.failure, a.usage])).toEqual([
    ["first", "gemini-first", "stream", { inputTokens: 1000, outputTokens: 20 }],
    ["second", "gpt-second", undefined, { inputTokens: 1200, outputTokens: 30 }],
  ]);
  expect(record!.usage).toEqual({ inputTokens: 2200, outputTokens: 50 });
  // 1000 × $1/M + 20 × $4/M at the first backend, 1200 × $2.5/M + 30 × $10/M at the second.
  expect(record!.costUsd).toBe(0.00438);
});
