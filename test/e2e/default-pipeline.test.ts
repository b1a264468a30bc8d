import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_KEY, startDefaultPipeline } from "../support/default-pipeline.js";
import { waitForRecord, waitForRecords } from "../support/records.js";

describe("default pipeline with the official openai client", () => {
  let gw: Awaited<ReturnType<typeof startDefaultPipeline>>;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startDefaultPipeline();
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: DEMO_KEY, maxRetries: 0 });
  });
  afterAll(() => gw?.close());

  it("answers a plain chat completion with content, usage and gateway headers", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "mock-small", messages: [{ role: "user", content: "Hello" }] })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]!.message.content).toMatch(/^Hello from switchyard's mock provider \(backend mock-[ab]\)\.$/);
    expect(data.choices[0]!.finish_reason).toBe("stop");
    expect(data.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage!.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-switchyard-request-id")).toMatch(/.+/);
    expect(response.headers.get("x-switchyard-backend")).toMatch(/^mock-[ab]$/);
    expect(response.headers.get("x-switchyard-attempts")).toBe("1");
    expect(Number(response.headers.get("x-switchyard-cost-usd"))).toBeGreaterThan(0);
  });

  it("streams a chat completion whose deltas join into the reply and end with usage", async () => {
    const stream = await client.chat.completions.create({
      model: "mock-small",
      messages: [{ role: "user", content: "Hello" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    let finish: string | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text).toMatch(/^Hello from switchyard's mock provider \(backend mock-[ab]\)\.$/);
    expect(finish).toBe("stop");
    expect(usage!.completion_tokens).toBeGreaterThan(0);
  });

  it("spreads requests over both backends round-robin", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { response } = await client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: "hi" }] }).withResponse();
      seen.add(response.headers.get("x-switchyard-backend")!);
    }
    expect([...seen].sort()).toEqual(["mock-a", "mock-b"]);
  });

  it("lists the models its backends serve", async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models).toEqual(expect.arrayContaining(["mock-small", "mock-large"]));
    expect(models).not.toContain("mock-*");
  });

  it("writes one record per finished request with tenant, usage and cost, and no key or prompt", async () => {
    const { response } = await client.chat.completions.create({ model: "mock-large", messages: [{ role: "user", content: "record me" }] }).withResponse();
    const id = response.headers.get("x-switchyard-request-id");
    const records = await waitForRecords(gw.recordsFile, (rs) => rs.some((r) => r.id === id), { what: `the record of request ${id}` });
    const record = records.find((r) => r.id === id);
    expect(record).toMatchObject({ pipeline: "default", route: "/v1/chat/completions", tenant: "demo", keyId: "local-demo", backend: "mock-a", model: "mock-large", status: 200, stream: false });
    expect(record.usage.inputTokens).toBeGreaterThan(0);
    expect(record.costUsd).toBeGreaterThan(0);
    expect(record.attempts).toHaveLength(1);
    expect(typeof record.latencyMs).toBe("number");
    expect(typeof record.ttfbMs).toBe("number");
    expect(JSON.stringify(records)).not.toContain(DEMO_KEY);
    expect(JSON.stringify(records)).not.toContain("record me");
  });

  it("has a usage API that the demo client key may not read", async () => {
    const res = await fetch(`${gw.url}/admin/usage?from=2026-01-01`, { headers: { authorization: `Bearer ${DEMO_KEY}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("admin_key_required");
  });
});

describe("default pipeline, a stream whose client did not ask for usage", () => {
  let gw: Awaited<ReturnType<typeof startDefaultPipeline>>;
  beforeAll(async () => {
    gw = await startDefaultPipeline();
  });
  afterAll(() => gw?.close());

  it("gets no usage-only chunk (every chunk has a choice), while the record still has the usage", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: DEMO_KEY, maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions
      .create({ model: "mock-small", messages: [{ role: "user", content: "Hello" }], stream: true })
      .withResponse();
    let text = "";
    for await (const chunk of stream) {
      expect(chunk.choices).toHaveLength(1);
      text += chunk.choices[0]!.delta.content ?? "";
    }
    expect(text).toContain("mock provider");
    const id = response.headers.get("x-switchyard-request-id");
    const record = await waitForRecord(gw.recordsFile, id);
    expect(record.usage.outputTokens).toBeGreaterThan(0);
    expect(record.costUsd).toBeGreaterThan(0);
  });
});
