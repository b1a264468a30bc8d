/**
 * Gemini often says how long to wait only in its error body (`google.rpc.RetryInfo`), with no
 * retry-after header: the gateway honours it as it honours retry-after, for the client's answer
 * and for the attempt loop (the record's retryAfterMs).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND_KEYS, matrixPipeline, MODEL_OF } from "../support/format-matrix-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { waitForRecord } from "../support/records.js";
import { startFormatsUpstream, type FormatsUpstream } from "../support/upstream-formats.js";

const KEY = "sk-retry-info";

describe("a Gemini backend's RetryInfo, honoured like retry-after", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    const base = matrixPipeline(upstream.origin);
    const pipeline = { ...base, steps: [...base.steps, { use: "record-jsonl", config: { path: "./records.jsonl", flushIntervalMs: 10 } }] };
    gw = await startGateway({ "matrix.pipeline.json": pipeline, "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]) }, BACKEND_KEYS.env);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  for (const [client, path, body, auth] of [
    ["OpenAI chat", "/v1/chat/completions", { model: MODEL_OF.gemini, messages: [{ role: "user", content: "Hi" }] }, { authorization: `Bearer ${KEY}` }],
    ["Gemini", `/v1beta/models/${MODEL_OF.gemini}:generateContent`, { contents: [{ role: "user", parts: [{ text: "Hi" }] }] }, { "x-goog-api-key": KEY }],
  ] as const) {
    it(`a 429 whose wait is only in the body reaches a ${client} client as retry-after, and the attempt records it`, async () => {
      upstream.queue({ error: { status: 429, message: "Resource has been exhausted", retryAfter: 7, retryInfoOnly: true } });
      const res = await fetch(`${gw.url}${path}`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("7");
      expect(upstream.last().format).toBe("gemini");
      const record = await waitForRecord(join(gw.dir, "records.jsonl"), res.headers.get("x-switchyard-request-id"));
      expect(record.attempts.map((a: { retryAfterMs?: number }) => a.retryAfterMs)).toEqual([7000]);
    });
  }
});
