/**
 * A plain reply in the client's own format goes out as the bytes that came, and only its usage and
 * finish reason are read: from a skeleton of the reply, with its long strings left unread
 * (lib/wire/reply-skeleton.ts). Through a gateway on loopback, for each of the four client formats:
 * the client gets the long answer exactly, the record has the usage and finish reason the full
 * parse reads; a finish reason too long for the skeleton still reaches the record whole; and a reply
 * whose long string is not valid JSON is refused as before, in the client's format.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { BACKEND_KEYS, matrixPipeline, MODEL_OF } from "../support/format-matrix-pipeline.js";
import { startUpstream, type HttpUpstream } from "../support/http-upstream.js";
import { waitForRecord } from "../support/records.js";
import { startFormatsUpstream, type FormatsUpstream, type UpstreamFormat } from "../support/upstream-formats.js";

const KEY = "sk-same-format-client";
/** About 20 KB of what models write: quotes, newlines, tabs, text beyond ASCII and beyond the BMP. */
const PROSE = Array.from({ length: 300 }, (_, i) => `${i}. "Quoted" — ünïcödé\tand 😀 then\u2028a line.`).join("\n");

/** Each format's own plain reply carrying PROSE, and the usage and finish reason the record must keep. */
const REPLIES: Record<UpstreamFormat, { path: string; request: unknown; reply: unknown; usage: unknown; finishReason: string }> = {
  "openai-chat": {
    path: "/v1/chat/completions",
    request: { model: MODEL_OF["openai-chat"], messages: [{ role: "user", content: "Write." }] },
    reply: {
      id: "chatcmpl-1", object: "chat.completion", created: 1, model: MODEL_OF["openai-chat"],
      choices: [{ index: 0, message: { role: "assistant", content: PROSE }, finish_reason: "length" }],
      usage: { prompt_tokens: 11, completion_tokens: 4000, total_tokens: 4011, prompt_tokens_details: { cached_tokens: 3 } },
    },
    usage: { inputTokens: 11, outputTokens: 4000, cachedReadTokens: 3 },
    finishReason: "length",
  },
  "openai-responses": {
    path: "/v1/responses",
    request: { model: MODEL_OF["openai-responses"], input: "Write." },
    reply: {
      id: "resp_1", object: "response", created_at: 1, model: MODEL_OF["openai-responses"], status: "incomplete", incomplete_details: { reason: "max_output_tokens" },
      output: [{ type: "message", id: "msg_1", status: "incomplete", role: "assistant", content: [{ type: "output_text", text: PROSE, annotations: [] }] }],
      usage: { input_tokens: 11, output_tokens: 4000, total_tokens: 4011, output_tokens_details: { reasoning_tokens: 7 } },
    },
    usage: { inputTokens: 11, outputTokens: 4000, reasoningTokens: 7 },
    finishReason: "max_output_tokens",
  },
  "anthropic-messages": {
    path: "/v1/messages",
    request: { model: MODEL_OF["anthropic-messages"], max_tokens: 4000, messages: [{ role: "user", content: "Write." }] },
    reply: {
      id: "msg_1", type: "message", role: "assistant", model: MODEL_OF["anthropic-messages"], content: [{ type: "text", text: PROSE }],
      stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 11, output_tokens: 4000, cache_read_input_tokens: 2 },
    },
    usage: { inputTokens: 13, outputTokens: 4000, cachedReadTokens: 2 },
    finishReason: "end_turn",
  },
  gemini: {
    path: `/v1beta/models/${MODEL_OF.gemini}:generateContent`,
    request: { contents: [{ role: "user", parts: [{ text: "Write." }] }] },
    reply: {
      candidates: [{ content: { role: "model", parts: [{ text: PROSE }] }, finishReason: "STOP", index: 0 }],
      usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 4000, totalTokenCount: 4011 }, modelVersion: MODEL_OF.gemini,
    },
    usage: { inputTokens: 11, outputTokens: 4000 },
    finishReason: "STOP",
  },
};

describe("a plain reply in the client's own format", () => {
  let upstream: FormatsUpstream;
  let raw: HttpUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    raw = await startUpstream();
    const pipeline = matrixPipeline(upstream.origin);
    // An OpenAI backend whose bytes each test writes itself, broken ones included.
    (pipeline.backends as Record<string, unknown>).raw = { use: "provider-openai", models: ["gpt-raw"], config: { baseUrl: `${raw.url}/v1`, apiKey: "sk-raw-upstream", formats: ["openai-chat"] } };
    pipeline.steps.push({ use: "record-jsonl", config: { path: "./records.jsonl", flushIntervalMs: 10 } } as never);
    gw = await startGateway({ "matrix.pipeline.json": pipeline, "keys.json": await keysFile([{ key: KEY, id: "app", tenant: "acme" }]) }, BACKEND_KEYS.env);
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await raw?.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` }, body: JSON.stringify(body) });
  const recordOf = (res: Response) => waitForRecord(join(gw.dir, "records.jsonl"), res.headers.get("x-switchyard-request-id"));

  for (const [format, c] of Object.entries(REPLIES)) {
    it(`${format}: the client gets the long answer exactly; the record has its usage and finish reason`, async () => {
      upstream.set({ replay: { json: c.reply } });
      const res = await post(c.path, c.request);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(c.reply);
      expect(await recordOf(res)).toMatchObject({ status: 200, backend: format, usage: c.usage, finishReason: c.finishReason });
    });
  }

  const chat = (reply: string | Buffer) => {
    raw.handle((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(reply));
    return post("/v1/chat/completions", { model: "gpt-raw", messages: [{ role: "user", content: "Write." }] });
  };

  it("keeps a finish reason too long for the skeleton whole", async () => {
    const reason = `custom_${"r".repeat(300)}`;
    const body = JSON.stringify({ ...(REPLIES["openai-chat"].reply as object), choices: [{ index: 0, message: { role: "assistant", content: PROSE }, finish_reason: reason }] });
    const res = await chat(body);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
    expect(await recordOf(res)).toMatchObject({ status: 200, usage: REPLIES["openai-chat"].usage, finishReason: reason });
  });

  const broken: [string, string][] = [
    ["an escape JSON does not have", `{"choices":[{"message":{"content":"${"a".repeat(300)}\\q"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`],
    ["a raw control character", `{"choices":[{"message":{"content":"${"a".repeat(300)}\u0001"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`],
    ["a \\u escape cut short", `{"choices":[{"message":{"content":"${"a".repeat(300)}\\u12"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`],
    ["a string never closed", `{"choices":[{"message":{"content":"${"a".repeat(300)}`],
  ];
  it.each(broken)("refuses a reply whose long string has %s: 502 upstream_invalid_json in the client's format", async (_name, reply) => {
    const res = await chat(reply);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: "upstream_invalid_json" });
    const record = await recordOf(res);
    expect(record).toMatchObject({ status: 502, error: { code: "upstream_invalid_json" } });
    expect(record.usage).toBeUndefined();
  });
});
