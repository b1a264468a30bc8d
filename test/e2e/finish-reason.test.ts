/**
 * Why each answer ended reaches the record and the metrics, as the serving backend's format wrote
 * it: every client SDK (openai chat and responses, @anthropic-ai/sdk, @google/genai) against a
 * backend of every format (Bedrock Converse too, against the local SigV4 stand-in), plain and
 * streamed (translated, and passed through where client and backend speak the same format),
 * through a gateway on loopback. The span side is in
 * trace-otel.test.ts.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askWith, CLIENT_APIS, clientsFor, type Clients } from "../support/format-clients.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { BACKEND_KEYS, matrixPipeline, MODEL_OF } from "../support/format-matrix-pipeline.js";
import { startBedrockUpstream, TEST_AWS, type BedrockUpstream } from "../support/bedrock-upstream.js";
import { waitForRecords } from "../support/records.js";
import { startFormatsUpstream, type FormatsUpstream, type ScriptedReply, type UpstreamFormat } from "../support/upstream-formats.js";

const KEY = "sk-finish-client";
const ADMIN_KEY = "sk-finish-admin";

const REPLIES = {
  text: { text: "Paris is sunny.", usage: { input: 20, output: 4 } },
  tools: { text: "", toolCalls: [{ id: "call_1", name: "get_weather", arguments: { city: "Paris" } }], usage: { input: 30, output: 8 } },
  truncated: { text: "The weather in", truncated: true, usage: { input: 20, output: 3 } },
} satisfies Record<string, ScriptedReply>;
type Kind = keyof typeof REPLIES;
const KINDS = Object.keys(REPLIES) as Kind[];

/** What each backend format writes for each kind of ending: what the record keeps. */
const WRITTEN: Record<UpstreamFormat, Record<Kind, string>> = {
  "openai-chat": { text: "stop", tools: "tool_calls", truncated: "length" },
  "openai-responses": { text: "completed", tools: "completed", truncated: "max_output_tokens" },
  "anthropic-messages": { text: "end_turn", tools: "tool_use", truncated: "max_tokens" },
  gemini: { text: "STOP", tools: "STOP", truncated: "MAX_TOKENS" },
};

const ROUTE_OF: Record<UpstreamFormat, string> = {
  "openai-chat": "/v1/chat/completions",
  "openai-responses": "/v1/responses",
  "anthropic-messages": "/v1/messages",
  gemini: "/v1beta/models/:target",
};

function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe("finish reasons in records and metrics", () => {
  let upstream: FormatsUpstream;
  let bedrock: BedrockUpstream;
  let gw: TestGateway;
  let clients: Clients;
  let records: string;
  /** route -> reason -> answers expected to have ended so. */
  const expected = new Map<string, Map<string, number>>();
  let answered = 0;

  const count = (route: string, reason: string) => {
    const reasons = expected.get(route) ?? new Map<string, number>();
    expected.set(route, reasons.set(reason, (reasons.get(reason) ?? 0) + 1));
  };
  const lastRecord = async () => {
    answered++;
    const all = await waitForRecords(records, (rs) => rs.length === answered);
    return all.at(-1);
  };

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    bedrock = await startBedrockUpstream();
    const pipeline = matrixPipeline(upstream.origin, { routes: [{ method: "GET", path: "/metrics", format: "openai-chat", endpoint: "metrics" }] });
    (pipeline.backends as Record<string, unknown>).bedrock = {
      use: "provider-bedrock", models: ["claude-bedrock"], modelMap: { "claude-bedrock": "anthropic.claude-3-5-haiku-20241022-v1:0" },
      config: { region: TEST_AWS.region, baseUrl: bedrock.url, accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: "${env:BEDROCK_TEST_SECRET}" },
    };
    pipeline.steps.unshift({ use: "metrics-prometheus", config: {} } as never);
    pipeline.steps.push({ use: "record-jsonl", config: { path: "./records.jsonl", flushIntervalMs: 10 } } as never);
    gw = await startGateway(
      {
        "matrix.pipeline.json": pipeline,
        "keys.json": await keysFile([
          { key: KEY, id: "app", tenant: "acme" },
          { key: ADMIN_KEY, id: "ops", tenant: "ops", role: "admin" },
        ]),
      },
      { ...BACKEND_KEYS.env, BEDROCK_TEST_SECRET: TEST_AWS.secretAccessKey },
    );
    clients = clientsFor(gw.url, KEY);
    records = join(gw.dir, "records.jsonl");
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await bedrock?.close();
  });

  let turn = 0;
  for (const client of CLIENT_APIS) {
    for (const backend of CLIENT_APIS) {
      for (const stream of [false, true]) {
        const kind = KINDS[turn++ % KINDS.length]!;
        const path = client === backend ? "passed through" : "translated";
        it(`${client} client, ${stream ? "streamed" : "plain"} ${kind} answer from a ${backend} backend (${path}): the record keeps "${WRITTEN[backend][kind]}"`, async () => {
          upstream.set({ reply: REPLIES[kind] });
          await askWith(clients, client, { model: MODEL_OF[backend], system: "Be terse.", user: "Weather in Paris?", maxTokens: 50, tools: kind === "tools", stream });
          const record = await lastRecord();
          expect(record).toMatchObject({ status: 200, backend, stream, route: ROUTE_OF[client], finishReason: WRITTEN[backend][kind] });
          count(ROUTE_OF[client], WRITTEN[backend][kind]);
        });
      }
    }
  }

  for (const client of CLIENT_APIS) {
    for (const stream of [false, true]) {
      it(`${client} client, ${stream ? "streamed" : "plain"} answer from a Bedrock Converse backend: the record keeps its stopReason "end_turn"`, async () => {
        await askWith(clients, client, { model: "claude-bedrock", system: "Be terse.", user: "Say hello.", maxTokens: 50, tools: false, stream });
        expect(await lastRecord()).toMatchObject({ status: 200, backend: "bedrock", stream, finishReason: "end_turn" });
        count(ROUTE_OF[client], "end_turn");
      });
    }
  }

  // The rotation above streams Responses tool calls only translated: passed through, the observer must see them end too.
  it("openai-responses client, streamed tools answer from an openai-responses backend (passed through): the record keeps \"completed\"", async () => {
    upstream.set({ reply: REPLIES.tools });
    await askWith(clients, "openai-responses", { model: MODEL_OF["openai-responses"], system: "Be terse.", user: "Weather in Paris?", maxTokens: 50, tools: true, stream: true });
    expect(await lastRecord()).toMatchObject({ status: 200, backend: "openai-responses", stream: true, finishReason: "completed" });
    count(ROUTE_OF["openai-responses"], "completed");
  });

  it("keeps a compatible server's own finish reason in the record, and counts it as unknown", async () => {
    upstream.set({
      replay: {
        json: { id: "c1", object: "chat.completion", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "eos_token" }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } },
      },
    });
    const reply = await clients.openai.chat.completions.create({ model: MODEL_OF["openai-chat"], messages: [{ role: "user", content: "hi" }] });
    expect(reply.choices[0]!.finish_reason).toBe("eos_token");
    expect(await lastRecord()).toMatchObject({ status: 200, finishReason: "eos_token" });
    count(ROUTE_OF["openai-chat"], "unknown");
  });

  it("records no finish reason for an answer that failed", async () => {
    upstream.set({ error: { status: 500, message: "boom" } });
    await expect(clients.anthropic.messages.create({ model: MODEL_OF["anthropic-messages"], max_tokens: 10, messages: [{ role: "user", content: "hi" }] })).rejects.toThrow();
    const record = await lastRecord();
    expect(record.status).toBeGreaterThanOrEqual(500);
    expect(record).not.toHaveProperty("finishReason");
  });

  it("counts every answer in switchyard_finish_reasons_total by pipeline, route and reason", async () => {
    const r = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(r.status).toBe(200);
    const samples = parseMetrics(await r.text());
    const seen = new Map<string, Map<string, number>>();
    for (const [key, value] of samples) {
      const m = /^switchyard_finish_reasons_total\{pipeline="matrix",route="([^"]+)",reason="([^"]+)"\}$/.exec(key);
      if (m) seen.set(m[1]!, (seen.get(m[1]!) ?? new Map<string, number>()).set(m[2]!, value));
    }
    expect(seen).toEqual(expected);
  });
});
