/**
 * A stream that outlives its backend (translate's `continuation`): the first upstream breaks
 * after K chunks (a TCP reset, or an error event as an HTTP/2 stream error surfaces in SSE), the
 * gateway asks the second for the rest with the partial answer as the assistant's turn, and each
 * official SDK reads one complete answer: the first backend's prefix, then the second's text.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../core/index.js";
import { CONTINUE_INSTRUCTION } from "../../plugins/translate/continuation.js";
import { CLIENT_APIS, askWith, clientsFor, type ClientApi } from "../support/format-clients.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { waitForRecords } from "../support/records.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";
import { FOUR_FORMAT_ROUTES } from "../support/format-matrix-pipeline.js";

const FIRST_REPLY = "The quick brown fox jumps over the lazy dog and keeps running far away";
const REST = " and then it rests under a tree.";
const FINISH: Record<ClientApi, string> = { "openai-chat": "stop", "openai-responses": "completed", "anthropic-messages": "end_turn", gemini: "STOP" };

let first: OpenAiUpstream;
let second: OpenAiUpstream;
let gw: TestGateway;

beforeAll(async () => {
  first = await startOpenAiUpstream({ reply: FIRST_REPLY, chunks: 6 });
  second = await startOpenAiUpstream({ reply: REST, chunks: 3, usage: { prompt_tokens: 30, completion_tokens: 9 } });
  gw = await startGateway({
    "continued.pipeline.json": {
      id: "continued",
      routes: FOUR_FORMAT_ROUTES,
      backends: {
        first: { use: "provider-openai", models: ["gpt-4o"], config: { baseUrl: first.url, apiKey: "sk-upstream-first-0000", formats: ["openai-chat"] } },
        second: { use: "provider-openai", models: ["gpt-4o"], config: { baseUrl: second.url, apiKey: "sk-upstream-second-000", formats: ["openai-chat"] } },
      },
      steps: [
        { use: "translate", config: { continuation: { maxContinuations: 1 } } },
        { use: "stream-sse" },
        { use: "record-jsonl", config: { path: "./records.jsonl" } },
      ],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await first?.close();
  await second?.close();
});
beforeEach(() => {
  first.requests.length = 0;
  second.requests.length = 0;
});

const ask = (api: ClientApi) => askWith(clientsFor(gw.url, "sk-client"), api, { model: "gpt-4o", system: "Be brief.", user: "Tell me about the fox.", maxTokens: 100, tools: false, stream: true });

describe.each([
  ["a TCP reset", { resetAfterChunks: 2 }],
  ["an error event", { errorEventAfterChunks: 3 }],
] as const)("after %s mid-stream", (_name, breakage) => {
  it.each(CLIENT_APIS)("the %s SDK reads one complete answer: the first backend's prefix, then the second's continuation", async (api) => {
    first.set({ reply: FIRST_REPLY, chunks: 6, ...breakage });
    const seen = await ask(api);
    // What the second backend was asked to continue: the partial answer as the assistant's turn, then the instruction.
    const messages = second.requests.at(-1)!.body.messages as { role: string; content: string }[];
    expect(messages.slice(-2).map((m) => m.role)).toEqual(["assistant", "user"]);
    expect(messages.at(-1)!.content).toBe(CONTINUE_INSTRUCTION);
    const prefix = messages.at(-2)!.content;
    expect(prefix.length).toBeGreaterThan(0);
    expect(FIRST_REPLY.startsWith(prefix) && prefix !== FIRST_REPLY).toBe(true);
    expect(seen.text).toBe(prefix + REST);
    expect(seen.finish).toBe(FINISH[api]);
    // The first upstream broke before its usage: the one usage is the second's (sums are unit-tested).
    expect(seen.usage.output).toBe(9);
    expect(first.requests).toHaveLength(1);
    expect(second.requests).toHaveLength(1);
    // The transcript for the issue note: what each SDK read, and from which backend each part came.
    console.log(`continuation after ${_name}, ${api} SDK: first backend ${JSON.stringify(prefix)} + second ${JSON.stringify(REST)} -> the SDK read ${JSON.stringify(seen.text)}, finish ${seen.finish}, output tokens ${seen.usage.output}`);
  });
});

it("records both attempts and says the stream was continued", async () => {
  first.set({ reply: FIRST_REPLY, chunks: 6, resetAfterChunks: 2 });
  // Found by its own request id: the records of the tests before may still be on their way to the file.
  const clientId = `continued-${Date.now()}`;
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-client", "x-request-id": clientId },
    body: JSON.stringify({ model: "gpt-4o", stream: true, messages: [{ role: "user", content: "Tell me about the fox." }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
  const records = await waitForRecords(`${gw.dir}/records.jsonl`, (rs) => rs.some((r) => r.clientRequestId === clientId));
  const record = records.find((r) => r.clientRequestId === clientId) as RequestRecord;
  expect(record.attempts.map((a) => [a.backend, a.failure])).toEqual([["first", "stream"], ["second", undefined]]);
  expect(record.status).toBe(200);
  expect(record.backend).toBe("second");
  expect(record.notes).toEqual([expect.stringMatching(/^translate: stream broke \(upstream_body_failed\) after \d+ characters; continued on the next attempt$/)]);
});
