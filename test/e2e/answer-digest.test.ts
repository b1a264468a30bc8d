/**
 * record-jsonl's captureBody keeps the digest of each answer (`answerDigest`, the sha256 of its
 * text): the same for a plain reply and a stream, passed through or translated, so that
 * `simulate --send` can compare a replay's answer with the recorded one.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { digestText } from "../../lib/record/answer-digest.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { waitForRecord } from "../support/records.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";

const REPLY = "The fox rests under a tree.";
let upstream: OpenAiUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startOpenAiUpstream({ reply: REPLY, chunks: 4 });
  gw = await startGateway({
    "digest.pipeline.json": {
      id: "digest",
      routes: [
        { method: "POST", path: "/v1/chat/completions", format: "openai-chat" },
        { method: "POST", path: "/v1/messages", format: "anthropic-messages" },
      ],
      backends: { openai: { use: "provider-openai", models: ["gpt-4o"], config: { baseUrl: upstream.url, apiKey: "sk-upstream-0000", formats: ["openai-chat"] } } },
      steps: [{ use: "translate" }, { use: "stream-sse" }, { use: "record-jsonl", config: { path: "./records.jsonl", batchSize: 1, captureBody: {} } }],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const cases = [
  ["a plain OpenAI reply", "/v1/chat/completions", { model: "gpt-4o", messages: [{ role: "user", content: "fox?" }] }],
  ["a passed-through OpenAI stream", "/v1/chat/completions", { model: "gpt-4o", stream: true, messages: [{ role: "user", content: "fox?" }] }],
  ["a plain reply translated to Anthropic", "/v1/messages", { model: "gpt-4o", max_tokens: 50, messages: [{ role: "user", content: "fox?" }] }],
  ["a stream translated to Anthropic", "/v1/messages", { model: "gpt-4o", max_tokens: 50, stream: true, messages: [{ role: "user", content: "fox?" }] }],
] as const;

it.each(cases)("records the digest of the answer's text for %s", async (_name, path, body) => {
  const res = await fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "sk-client" }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  await res.text();
  const record = await waitForRecord(`${gw.dir}/records.jsonl`, res.headers.get("x-switchyard-request-id"));
  expect(record.answerDigest).toBe(digestText(REPLY));
  expect(record.request).toEqual({ body });
});

it("keeps no digest for a refused request", async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "fox?" }] }) });
  expect(res.status).toBe(404);
  const record = await waitForRecord(`${gw.dir}/records.jsonl`, res.headers.get("x-switchyard-request-id"));
  expect(record.answerDigest).toBeUndefined();
});
