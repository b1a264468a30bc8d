/**
 * OpenAI Realtime through the gateway, with the official SDK's WebSocket client unchanged in
 * front and a stand-in speaking the Realtime event protocol behind: the gateway key is checked and
 * replaced by the backend's, the model resolved through the pipeline, each response's usage read
 * from `response.done`, priced, recorded, and counted against budgets while the session runs.
 */
import { connect as netConnect } from "node:net";
import { join } from "node:path";
import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";
import { afterEach, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { keysFile, startGateway, type TestGateway } from "../../support/gateway.js";
import { waitForRecords } from "../../support/records.js";
import { within } from "../../support/wait.js";
import { closed, openClient, startWsUpstream, type WsUpstream } from "../../support/ws-upstream.js";

const KEY = "sk-gateway-realtime-0001";
const BACKEND_KEY = "sk-backend-realtime-0001";
const USAGE = { total_tokens: 160, input_tokens: 100, output_tokens: 60, input_token_details: { cached_tokens: 40, text_tokens: 100, audio_tokens: 0 }, output_token_details: { text_tokens: 60, audio_tokens: 0 } };

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** A Realtime stand-in: session.created at once, session.updated for session.update, and a text response for response.create. */
function realtimeStandIn(socket: WebSocket): void {
  let n = 0;
  const send = (event: Record<string, unknown>) => socket.send(JSON.stringify({ event_id: `event_${++n}`, ...event }));
  send({ type: "session.created", session: { id: "sess_1", model: "gpt-realtime-2025", modalities: ["text"] } });
  socket.on("message", (data: Buffer) => {
    const event = JSON.parse(data.toString());
    if (event.type === "session.update") send({ type: "session.updated", session: { id: "sess_1", ...event.session } });
    if (event.type === "response.create") {
      const id = `resp_${n}`;
      send({ type: "response.created", response: { id, object: "realtime.response", status: "in_progress", output: [], usage: null } });
      send({ type: "response.output_text.delta", response_id: id, item_id: "item_1", output_index: 0, content_index: 0, delta: "Hello" });
      send({ type: "response.output_text.delta", response_id: id, item_id: "item_1", output_index: 0, content_index: 0, delta: " there" });
      send({ type: "response.done", response: { id, object: "realtime.response", status: "completed", output: [], usage: USAGE } });
    }
  });
}

async function gateway(up: WsUpstream, steps: unknown[] = []): Promise<TestGateway & { records: string }> {
  const g = await startGateway({
    "realtime.pipeline.json": {
      id: "realtime",
      routes: [{ method: "GET", path: "/v1/realtime", format: "openai-chat", endpoint: "openai-realtime" }],
      backends: { openai: { use: "provider-openai", models: ["gpt-realtime"], modelMap: { "gpt-realtime": "gpt-realtime-2025" }, config: { baseUrl: `${up.url}/v1`, apiKey: BACKEND_KEY } } },
      steps: [
        { use: "auth-api-key", config: { keysFile: "./keys.json" } },
        ...steps,
        { use: "realtime" },
        { use: "cost", config: { pricingFile: "./pricing.json" } },
        { use: "record-jsonl", config: { path: "./records.jsonl" } },
      ],
    },
    "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]),
    "pricing.json": { updated: "2026-01-01", currency: "USD", models: { "gpt-realtime-2025": { input: 4, output: 16, cachedRead: 0.4 } } },
  });
  opened.unshift(g);
  return Object.assign(g, { records: join(g.dir, "records.jsonl") });
}

/** The SDK always dials wss://; the test gateway speaks plain HTTP, so the client gets a plain TCP connection through ws's own option. */
function sdkClient(g: TestGateway, apiKey = KEY): OpenAIRealtimeWS {
  const { port } = new URL(g.url);
  const client = new OpenAI({ apiKey, baseURL: `${g.url}/v1` });
  return new OpenAIRealtimeWS({ model: "gpt-realtime", options: { createConnection: () => netConnect(Number(port), "127.0.0.1") } as never }, client);
}

function nextEvent<T>(rt: OpenAIRealtimeWS, type: string): Promise<T> {
  return new Promise((resolve) => rt.on(type as never, ((event: T) => resolve(event)) as never));
}

describe("realtime: OpenAI Realtime with the official SDK client", () => {
  it("updates the session and records a text response's usage from response.done, priced, plus one session record", async () => {
    const up = await startWsUpstream(realtimeStandIn);
    opened.push(up);
    const g = await gateway(up);
    const rt = sdkClient(g);
    await within(new Promise((resolve) => rt.socket.once("open", resolve)), "the SDK's socket opening");
    const updated = nextEvent<{ session: { instructions?: string } }>(rt, "session.updated");
    rt.send({ type: "session.update", session: { type: "realtime", instructions: "Be brief." } } as never);
    expect((await within(updated, "session.updated")).session.instructions).toBe("Be brief.");
    let text = "";
    rt.on("response.output_text.delta", (e) => (text += e.delta));
    const done = nextEvent<{ response: { usage: unknown } }>(rt, "response.done");
    rt.send({ type: "response.create" });
    expect((await within(done, "response.done")).response.usage).toEqual(USAGE);
    expect(text).toBe("Hello there");
    const closedSocket = new Promise((resolve) => rt.socket.once("close", resolve));
    rt.close();
    await within(closedSocket, "the SDK's close");

    // The backend saw its own key and model, never the gateway's key.
    expect(up.handshakes[0]!.authorization).toBe(`Bearer ${BACKEND_KEY}`);
    const records = await waitForRecords(g.records, (r) => r.length === 2);
    const response = records.find((r) => r.session?.of !== undefined)!;
    const session = records.find((r) => r.session?.of === undefined)!;
    // 60 plain input at $4, 40 cached at $0.4, 60 output at $16 per million tokens.
    const cost = (60 * 4 + 40 * 0.4 + 60 * 16) / 1e6;
    expect(response).toMatchObject({
      route: "/v1/realtime", tenant: "acme", keyId: "k1", model: "gpt-realtime", upstreamModel: "gpt-realtime-2025", backend: "openai",
      usage: { inputTokens: 100, outputTokens: 60, cachedReadTokens: 40 }, session: { of: session.id, response: expect.stringMatching(/^resp_/) },
    });
    expect(response.costUsd).toBeCloseTo(cost, 12);
    expect(session).toMatchObject({
      status: 101, model: "gpt-realtime", costUsd: 0,
      session: { responses: 1, usage: { inputTokens: 100, outputTokens: 60, cachedReadTokens: 40 }, framesUp: 2, endedBy: "client" },
    });
    expect(session.session.costUsd).toBeCloseTo(cost, 12);
    expect(JSON.stringify(records)).not.toContain(KEY);
  });

  it("answers a wrong gateway key with 401 before the upgrade, in OpenAI's error format", async () => {
    const up = await startWsUpstream(realtimeStandIn);
    opened.push(up);
    const g = await gateway(up);
    const refused = await openClient(`${g.url.replace(/^http/, "ws")}/v1/realtime?model=gpt-realtime`, [], { headers: { authorization: "Bearer sk-wrong" } }).catch((e) => e);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).error.code).toBe("invalid_api_key");
    expect(up.handshakes).toEqual([]);
  });

  it("answers an unknown model with 404 before the upgrade", async () => {
    const up = await startWsUpstream(realtimeStandIn);
    opened.push(up);
    const g = await gateway(up);
    const refused = await openClient(`${g.url.replace(/^http/, "ws")}/v1/realtime?model=nope`, [], { headers: { authorization: `Bearer ${KEY}` } }).catch((e) => e);
    expect(refused.status).toBe(404);
    expect(up.handshakes).toEqual([]);
  });

  it("closes a session over budget with an error event, then 1008", async () => {
    const up = await startWsUpstream(realtimeStandIn);
    opened.push(up);
    // Each response reserves $0.01 when it starts and settles at ~$0.0012: the client asks for one after another until
    // the spent responses, the session's own $0.01 and the next reservation pass $0.035 (about a dozen responses in).
    const g = await gateway(up, [{ use: "budget", config: { budgets: [{ by: "tenant", period: "day", limitUsd: 0.035 }], estimate: { flatUsd: 0.01 } } }]);
    const client = await openClient(`${g.url.replace(/^http/, "ws")}/v1/realtime?model=gpt-realtime`, [], { headers: { authorization: `Bearer ${KEY}` } });
    const events: { type: string; error?: { code: string } }[] = [];
    client.on("message", (data: Buffer) => {
      const event = JSON.parse(data.toString());
      events.push(event);
      if (event.type === "response.done") client.send(JSON.stringify({ type: "response.create" }));
    });
    const end = closed(client);
    client.send(JSON.stringify({ type: "response.create" }));
    const { code, reason } = await within(end, "the over-budget close");
    expect({ code, reason }).toEqual({ code: 1008, reason: "budget_exceeded" });
    const error = events.find((e) => e.type === "error")!;
    expect(error.error).toMatchObject({ code: "budget_exceeded" });
    const records = await waitForRecords(g.records, (r) => r.some((x) => x.status === 101));
    const session = records.find((r) => r.status === 101)!;
    expect(session.error).toMatchObject({ code: "budget_exceeded" });
    expect(session.session.responses).toBeGreaterThanOrEqual(2);
  });

  it("counts each response's tokens against a token limit while the session runs: over it, an error event, then 1008", async () => {
    const up = await startWsUpstream(realtimeStandIn);
    opened.push(up);
    // Each response reserves 101 tokens when it starts and settles at its 160: with the session's own 101 held,
    // the first two fit under 500 tokens a minute, the third does not. The check runs as the response starts, so
    // this stand-in, which sends a whole response at once, may finish the third before the close reaches it.
    const g = await gateway(up, [{ use: "ratelimit", config: { defaultMaxTokens: 100, rules: [{ by: "key", tokens: { limit: 500, window: "1m" } }] } }]);
    const client = await openClient(`${g.url.replace(/^http/, "ws")}/v1/realtime?model=gpt-realtime`, [], { headers: { authorization: `Bearer ${KEY}` } });
    const events: { type: string; error?: { code: string } }[] = [];
    client.on("message", (data: Buffer) => {
      const event = JSON.parse(data.toString());
      events.push(event);
      if (event.type === "response.done") client.send(JSON.stringify({ type: "response.create" }));
    });
    const end = closed(client);
    client.send(JSON.stringify({ type: "response.create" }));
    expect(await within(end, "the over-limit close")).toEqual({ code: 1008, reason: "rate_limit_exceeded" });
    const done = events.filter((e) => e.type === "response.done").length;
    expect([2, 3]).toContain(done);
    expect(events.find((e) => e.type === "error")!.error).toMatchObject({ code: "rate_limit_exceeded" });
    const records = await waitForRecords(g.records, (r) => r.some((x) => x.status === 101));
    // Every response that finished is priced and recorded, the refused one included.
    expect(records.filter((r) => r.session?.of !== undefined && r.usage)).toHaveLength(done);
  });
});
