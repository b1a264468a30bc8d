import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, keysFile, type TestGateway } from "../support/gateway.js";
import { closedPortUrl, startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";
import { waitForRecords } from "../support/records.js";

const KEY = "sk-test-openai-upstream";

function pipeline(backends: Record<string, unknown>) {
  return {
    id: "compat",
    routes: [{ method: "POST", path: "/v1/chat/completions", format: "openai-chat" }],
    backends,
    steps: [
      { use: "auth-api-key", config: { keysFile: "./keys.json" } },
      { use: "validate" },
      { use: "select-fallback", config: { order: Object.keys(backends) } },
      { use: "translate" },
      { use: "stream-sse" },
      { use: "record-jsonl", config: { path: "./records.jsonl", flushIntervalMs: 10 } },
    ],
  };
}

describe("an OpenAI-compatible upstream behind the gateway, with the official openai client", () => {
  let upstream: OpenAiUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startOpenAiUpstream({ reply: "Hello from the local upstream.", chunks: 5, usage: { prompt_tokens: 11, completion_tokens: 7 } });
    const dead = await closedPortUrl();
    gw = await startGateway({
      "compat.pipeline.json": pipeline({
        dead: { use: "provider-openai", models: ["gpt-4o-mini"], config: { baseUrl: dead, apiKey: "${env:DEAD_KEY}" } },
        local: { use: "provider-openai", models: ["gpt-4o-mini", "local-*"], config: { baseUrl: upstream.url, apiKey: "${env:LOCAL_KEY}" } },
      }),
      "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]),
    }, { DEAD_KEY: "sk-dead-upstream-secret", LOCAL_KEY: "sk-local-upstream-secret" });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("relays a plain completion and the upstream's usage; the upstream sees the backend key, never the client's", async () => {
    const { data, response } = await client.chat.completions.create({ model: "local-llama", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe("Hello from the local upstream.");
    expect(data.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
    expect(response.headers.get("x-switchyard-backend")).toBe("local");
    const seen = upstream.requests.at(-1)!;
    expect(seen.headers.authorization).toBe("Bearer sk-local-upstream-secret");
    expect(seen.rawBody).not.toContain(KEY);
    expect(seen.body.model).toBe("local-llama");
  });

  it("sends the client's own bytes upstream when nothing changes the body, so large integers keep their digits", async () => {
    const raw = '{"model":"local-llama","seed":12345678901234567890,"messages":[{"role":"user","content":"hi"}]}';
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: raw });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    // JSON.parse then JSON.stringify would have sent 12345678901234567000.
    expect(upstream.requests.at(-1)!.rawBody).toBe(raw);
  });

  it("streams through, asking the upstream for usage, and the client gets every delta", async () => {
    const stream = await client.chat.completions.create({ model: "local-llama", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Hello from the local upstream.");
    expect(usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
    expect(upstream.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  it("asks for usage upstream even when the client did not, and reads it for the record", async () => {
    const stream = await client.chat.completions.create({ model: "local-llama", messages: [{ role: "user", content: "no usage please" }], stream: true });
    for await (const _ of stream) void _;
    expect(upstream.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  it("falls back from a backend that refuses connections to a healthy one, plain and streaming", async () => {
    const { data, response } = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe("Hello from the local upstream.");
    expect(response.headers.get("x-switchyard-backend")).toBe("local");
    expect(response.headers.get("x-switchyard-attempts")).toBe("2");

    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Hello from the local upstream.");

    const records = await waitForRecords(`${gw.dir}/records.jsonl`, (rs) => rs.filter((r) => r.model === "gpt-4o-mini").length >= 2, {
      what: "the records of both gpt-4o-mini requests",
    });
    const fallbacks = records.filter((r) => r.model === "gpt-4o-mini");
    expect(fallbacks).toHaveLength(2);
    for (const r of fallbacks) {
      expect(r.attempts.map((a: any) => [a.backend, a.failure ?? "ok"])).toEqual([["dead", "connect"], ["local", "ok"]]);
      expect(r.status).toBe(200);
    }
    expect(JSON.stringify(records)).not.toContain("sk-dead-upstream-secret");
  });

  it("passes an upstream 400 on in OpenAI's shape, and the SDK raises BadRequestError", async () => {
    upstream.queue({ error: { status: 400, body: { error: { message: "messages too long", type: "invalid_request_error", param: "messages", code: "context_length_exceeded" } } } });
    const err = await client.chat.completions.create({ model: "local-llama", messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.status).toBe(400);
    expect(err.message).toContain("messages too long");
  });
});
