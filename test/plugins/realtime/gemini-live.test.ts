/**
 * Gemini Live through the gateway with a raw ws client: the model comes in the setup message, so
 * the client is accepted first and the backend chosen after; the setup goes on with the backend's
 * model and key, each turn's usageMetadata is priced and recorded, and refusals after the upgrade
 * are an error message and a close frame.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { keysFile, startGateway, type TestGateway } from "../../support/gateway.js";
import { waitForRecords } from "../../support/records.js";
import { within } from "../../support/wait.js";
import { closed, openClient, startWsUpstream, type WsUpstream } from "../../support/ws-upstream.js";

const KEY = "sk-gateway-live-0001";
const BACKEND_KEY = "backend-live-key-0001";
const PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** A Live stand-in: setupComplete for the setup, then per clientContent turn two text parts and the turn's usage, as binary frames like Live's own. */
function liveStandIn(setups: unknown[]) {
  return (socket: WebSocket) => {
    const send = (message: unknown) => socket.send(Buffer.from(JSON.stringify(message)), { binary: true });
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString());
      if (message.setup) {
        setups.push(message.setup);
        send({ setupComplete: {} });
      }
      if (message.clientContent) {
        send({ serverContent: { modelTurn: { parts: [{ text: "Hi" }] } } });
        send({ serverContent: { modelTurn: { parts: [{ text: " there" }] } } });
        send({ serverContent: { turnComplete: true }, usageMetadata: { promptTokenCount: 50, responseTokenCount: 10, totalTokenCount: 60 } });
      }
    });
  };
}

async function gateway(baseUrl: string): Promise<TestGateway & { records: string; ws: string }> {
  const g = await startGateway({
    "live.pipeline.json": {
      id: "live",
      routes: [{ method: "GET", path: PATH, format: "gemini", endpoint: "gemini-live" }],
      backends: { gemini: { use: "provider-gemini", models: ["gemini-live"], modelMap: { "gemini-live": "gemini-live-2.5-flash" }, config: { baseUrl, apiKey: BACKEND_KEY } } },
      steps: [
        { use: "auth-api-key", config: { keysFile: "./keys.json" } },
        { use: "realtime" },
        { use: "cost", config: { pricingFile: "./pricing.json" } },
        { use: "record-jsonl", config: { path: "./records.jsonl" } },
      ],
    },
    "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]),
    "pricing.json": { updated: "2026-01-01", currency: "USD", models: { "gemini-live-2.5-flash": { input: 0.5, output: 2 } } },
  });
  opened.unshift(g);
  return Object.assign(g, { records: join(g.dir, "records.jsonl"), ws: g.url.replace(/^http/, "ws") });
}

function messages(socket: WebSocket): unknown[] {
  const seen: unknown[] = [];
  socket.on("message", (data: Buffer) => seen.push(JSON.parse(data.toString())));
  return seen;
}

function until(socket: WebSocket, predicate: (message: any) => boolean): Promise<any> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      const message = JSON.parse(data.toString());
      if (!predicate(message)) return;
      socket.off("message", onMessage);
      resolve(message);
    };
    socket.on("message", onMessage);
  });
}

describe("realtime: Gemini Live with a raw ws client", () => {
  it("sends the setup on with the backend's model and key, then prices and records each turn's usage", async () => {
    const setups: any[] = [];
    const up = await startWsUpstream(liveStandIn(setups));
    opened.push(up);
    const g = await gateway(up.url);
    const client = await openClient(`${g.ws}${PATH}`, [], { headers: { "x-goog-api-key": KEY } });
    const seen = messages(client);
    const ready = until(client, (m) => m.setupComplete !== undefined);
    client.send(JSON.stringify({ setup: { model: "models/gemini-live", generationConfig: { responseModalities: ["TEXT"] } } }));
    await within(ready, "setupComplete");
    for (let turn = 0; turn < 2; turn++) {
      const usage = until(client, (m) => m.usageMetadata !== undefined);
      client.send(JSON.stringify({ clientContent: { turns: [{ role: "user", parts: [{ text: `hello ${turn}` }] }], turnComplete: true } }));
      await within(usage, "the turn's usage");
    }
    const end = closed(client);
    client.close(1000);
    await end;
    expect(setups).toEqual([{ model: "models/gemini-live-2.5-flash", generationConfig: { responseModalities: ["TEXT"] } }]);
    expect(up.handshakes[0]!["x-goog-api-key"]).toBe(BACKEND_KEY);
    expect(seen.filter((m: any) => m.serverContent?.modelTurn)).toHaveLength(4);

    const records = await waitForRecords(g.records, (r) => r.length === 3);
    const turns = records.filter((r) => r.session?.of !== undefined);
    const session = records.find((r) => r.session?.of === undefined)!;
    const cost = (50 * 0.5 + 10 * 2) / 1e6;
    expect(turns).toHaveLength(2);
    for (const turn of turns) {
      expect(turn).toMatchObject({ model: "gemini-live", upstreamModel: "gemini-live-2.5-flash", tenant: "acme", usage: { inputTokens: 50, outputTokens: 10 }, session: { of: session.id } });
      expect(turn.costUsd).toBeCloseTo(cost, 12);
    }
    expect(session).toMatchObject({ status: 101, backend: "gemini", session: { responses: 2, usage: { inputTokens: 100, outputTokens: 20 }, framesUp: 3, framesDown: 7, clientCloseCode: 1000 } });
    expect(session.session.costUsd).toBeCloseTo(2 * cost, 12);
  });

  it("closes a session whose setup names no model with an error message and 1008", async () => {
    const up = await startWsUpstream(liveStandIn([]));
    opened.push(up);
    const g = await gateway(up.url);
    const client = await openClient(`${g.ws}${PATH}`, [], { headers: { "x-goog-api-key": KEY } });
    const error = until(client, (m) => m.error !== undefined);
    const end = closed(client);
    client.send(JSON.stringify({ setup: {} }));
    expect((await within(error, "the error message")).error).toMatchObject({ code: 400 });
    expect(await end).toEqual({ code: 1008, reason: "missing_model" });
    expect(up.handshakes).toEqual([]);
    const [record] = await waitForRecords(g.records, (r) => r.length === 1);
    expect(record).toMatchObject({ status: 400, error: { code: "missing_model" }, session: { endedBy: "gateway" } });
  });

  it("closes the client with 1011 when no backend can be reached", async () => {
    const up = await startWsUpstream(liveStandIn([]));
    const unreachable = up.url;
    await up.close();
    const g = await gateway(unreachable);
    const client = await openClient(`${g.ws}${PATH}`, [], { headers: { "x-goog-api-key": KEY } });
    const end = closed(client);
    client.send(JSON.stringify({ setup: { model: "models/gemini-live" } }));
    expect((await within(end, "the close")).code).toBe(1011);
    const [record] = await waitForRecords(g.records, (r) => r.length === 1);
    expect(record.error).toMatchObject({ code: "upstream_connect_failed" });
  });
});
