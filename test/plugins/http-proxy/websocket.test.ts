/**
 * WebSocket proxying on http routes: an upgrade under the route's path goes through the same auth,
 * plan and attempt loop as a plain request, then messages, pings and pongs are relayed both ways
 * until either side ends the session, which leaves one record with its totals.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { keysFile, startGateway, type TestGateway } from "../../support/gateway.js";
import { waitForRecords } from "../../support/records.js";
import { within } from "../../support/wait.js";
import { closed, echo, openClient, startWsUpstream, type WsUpstream } from "../../support/ws-upstream.js";
import { askWebSocketSessions } from "../../../lib/websocket/sessions.js";

const KEY = "sk-gateway-ws-client-0001";
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function upstream(onSession?: Parameters<typeof startWsUpstream>[0], options?: Parameters<typeof startWsUpstream>[1]): Promise<WsUpstream> {
  const up = await startWsUpstream(onSession, options);
  opened.push(up);
  return up;
}

interface GatewayOptions {
  steps?: unknown[];
  websocket?: Record<string, unknown>;
  backends?: WsUpstream[];
}

async function gateway(ups: WsUpstream[], options: GatewayOptions = {}): Promise<TestGateway & { records: string; ws: string }> {
  const backends = Object.fromEntries(ups.map((up, i) => [`app${i}`, { use: "provider-http", config: { baseUrl: up.url } }]));
  const g = await startGateway({
    "web.pipeline.json": {
      id: "web",
      routes: [{ path: "/live", format: "http", endpoint: "proxy" }],
      backends,
      steps: [
        ...(options.steps ?? []),
        { use: "http-proxy", config: { websocket: options.websocket ?? {} } },
        { use: "record-jsonl", config: { path: "./records.jsonl" } },
      ],
    },
    "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]),
  });
  opened.unshift(g);
  return Object.assign(g, { records: join(g.dir, "records.jsonl"), ws: g.url.replace(/^http/, "ws") });
}

function messages(socket: WebSocket, count: number): Promise<string[]> {
  const seen: string[] = [];
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      seen.push(data.toString());
      if (seen.length === count) {
        socket.off("message", onMessage);
        resolve(seen);
      }
    };
    socket.on("message", onMessage);
  });
}

describe("http-proxy WebSocket sessions", () => {
  it("relays 1,000 messages each way in order, then records the session's frames, bytes and close codes", async () => {
    const up = await upstream();
    const g = await gateway([up]);
    const client = await openClient(`${g.ws}/live/chat?room=1`);
    const sent = Array.from({ length: 1000 }, (_, i) => `message ${i}`);
    const echoed = messages(client, sent.length);
    for (const text of sent) client.send(text);
    expect(await within(echoed, "1,000 echoes")).toEqual(sent);
    const report = await askWebSocketSessions(g.reloader.pipelines()[0]!.hooks);
    expect(report.get("http-proxy")).toMatchObject({ open: 1, accepted: 1 });
    const bytes = sent.reduce((n, s) => n + Buffer.byteLength(s), 0);
    const done = closed(client);
    client.close(1000, "bye");
    expect((await done).code).toBe(1000);
    const [record] = await waitForRecords(g.records, (r) => r.length === 1);
    expect(up.handshakes[0]!["x-forwarded-for"]).toBe("127.0.0.1");
    expect(record).toMatchObject({
      route: "/live", status: 101, backend: "app0",
      session: { framesUp: 1000, framesDown: 1000, bytesUp: bytes, bytesDown: bytes, clientCloseCode: 1000, endedBy: "client" },
    });
    expect(record.session.durationMs).toBeGreaterThanOrEqual(0);
    expect(report.get("http-proxy")!.bytesUp).toBeLessThanOrEqual(bytes);
  });

  it("refuses a 10 MB message over maxMessageBytes with 1009, and the backend never gets it", async () => {
    const received: number[] = [];
    const up = await upstream((socket) => socket.on("message", (data: Buffer) => received.push(data.length)));
    const g = await gateway([up], { websocket: { maxMessageBytes: 1024 * 1024 } });
    const client = await openClient(`${g.ws}/live`);
    const done = closed(client);
    client.on("error", () => undefined);
    client.send(Buffer.alloc(10 * 1024 * 1024, 1));
    expect((await within(done, "the close of a client that sent too much")).code).toBe(1009);
    const [record] = await waitForRecords(g.records, (r) => r.length === 1);
    expect(record.session).toMatchObject({ endedBy: "too-large", framesUp: 0 });
    expect(received).toEqual([]);
  });

  it("closes a session with no frame either way for idleTimeoutMs with 1001 to both sides", async () => {
    const up = await upstream();
    const g = await gateway([up], { websocket: { idleTimeoutMs: 150 } });
    const client = await openClient(`${g.ws}/live`);
    client.send("one message, then silence");
    const upstreamClosed = new Promise<number>((resolve) => up.sockets[0]?.once("close", resolve) ?? resolve(-1));
    const { code, reason } = await within(closed(client), "the idle close");
    expect({ code, reason }).toEqual({ code: 1001, reason: "idle timeout" });
    expect(await upstreamClosed).toBe(1001);
    const [record] = await waitForRecords(g.records, (r) => r.length === 1);
    expect(record.session).toMatchObject({ endedBy: "idle", framesUp: 1, framesDown: 1 });
  });

  it("keeps a client on one backend with a sticky selector", async () => {
    const named = (name: string) => (socket: WebSocket) => socket.send(name);
    const ups = [await upstream(named("a")), await upstream(named("b")), await upstream(named("c"))];
    const g = await gateway(ups, { steps: [{ use: "select-sticky", config: { key: "header:x-session-id" } }] });
    const served = async (session: string) => {
      const client = new WebSocket(`${g.ws}/live`, { headers: { "x-session-id": session } });
      const [data] = (await once(client, "message")) as [Buffer];
      client.close();
      return data.toString();
    };
    for (const session of ["user-1", "user-2", "user-3"]) {
      const first = await served(session);
      for (let i = 0; i < 4; i++) expect(await served(session)).toBe(first);
    }
  });

  it("answers a refused key with 401 before the upgrade: no backend is dialled", async () => {
    const up = await upstream();
    const g = await gateway([up], { steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }] });
    const refused = await openClient(`${g.ws}/live`, [], { headers: { authorization: "Bearer sk-wrong" } }).catch((err) => err);
    expect(refused.status).toBe(401);
    expect(refused.headers["x-switchyard-request-id"]).toBeTruthy();
    expect(JSON.parse(refused.body).error).toBeTruthy();
    expect(up.handshakes).toEqual([]);
    const client = await openClient(`${g.ws}/live`, [], { headers: { authorization: `Bearer ${KEY}` } });
    client.close();
    expect(up.handshakes).toHaveLength(1);
    expect(up.handshakes[0]!.authorization).toBeUndefined();
  });

  it("negotiates the subprotocol and permessage-deflate end to end, and relays pings and pongs", async () => {
    const pings: string[] = [];
    const up = await upstream((socket) => {
      echo(socket);
      socket.on("ping", (data: Buffer) => pings.push(data.toString()));
    }, { handleProtocols: (offered) => (offered.has("chat.v1") ? "chat.v1" : false), perMessageDeflate: true });
    const g = await gateway([up]);
    const client = await openClient(`${g.ws}/live`, ["chat.v2", "chat.v1"], { perMessageDeflate: true });
    expect(client.protocol).toBe("chat.v1");
    expect(client.extensions).toContain("permessage-deflate");
    expect(up.handshakes[0]!["sec-websocket-protocol"]).toBe("chat.v2,chat.v1");
    const pong = once(client, "pong");
    client.ping("are you there");
    expect(((await within(pong, "the pong")) as [Buffer])[0].toString()).toBe("are you there");
    expect(pings).toEqual(["are you there"]);
    const echoed = messages(client, 1);
    client.send("x".repeat(10_000));
    expect((await echoed)[0]).toHaveLength(10_000);
    client.close();
  });

  it("closes the client with 1011 when the backend drops, and the record says why", async () => {
    const up = await upstream((socket) => socket.on("message", () => socket.terminate()));
    const g = await gateway([up]);
    const client = await openClient(`${g.ws}/live`);
    const done = closed(client);
    client.send("drop me");
    expect((await within(done, "the client's close")).code).toBe(1011);
    const [record] = await waitForRecords(g.records, (r) => r.length === 1);
    expect(record.session).toMatchObject({ endedBy: "upstream-dropped", upstreamCloseCode: 1006, clientCloseCode: 1011 });
    expect(record.error).toMatchObject({ code: "upstream_socket_dropped" });
  });

  it("closes the upstream at once when the client leaves", async () => {
    const up = await upstream();
    const g = await gateway([up]);
    const client = await openClient(`${g.ws}/live`);
    client.send("hello");
    await once(client, "message");
    const upstreamClosed = new Promise<number>((resolve) => up.sockets[0]!.once("close", resolve));
    client.terminate();
    expect(await within(upstreamClosed, "the upstream's close")).toBe(1001);
    const [record] = await waitForRecords(g.records, (r) => r.length === 1);
    expect(record.session).toMatchObject({ endedBy: "client", clientCloseCode: 1006 });
  });

  it("answers an upgrade on a path no route takes with a plain 404, and a malformed handshake with 400", async () => {
    const up = await upstream();
    const g = await gateway([up]);
    const missing = await openClient(`${g.ws}/elsewhere`).catch((err) => err);
    expect(missing.status).toBe(404);
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${g.url}/live`, { headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "not-a-key" } });
      req.on("response", (res) => (res.resume(), resolve(res.statusCode!)));
      req.on("upgrade", () => reject(new Error("upgraded")));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(up.handshakes).toEqual([]);
  });

  it("answers a request asking to upgrade to something else (h2c) as plain HTTP/1.1, as without WebSocket support", async () => {
    const up = await upstream();
    const g = await gateway([up]);
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${g.url}/live`, { headers: { connection: "Upgrade, HTTP2-Settings", upgrade: "h2c", "http2-settings": "AAMAAABkAARAAAAAAAIAAAAA" } });
      req.on("response", (res) => (res.resume(), resolve(res.statusCode!)));
      req.on("upgrade", () => reject(new Error("upgraded")));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(426); // the echo backend's own answer to a plain GET
  });

  it("answers a plain request on the same route as before", async () => {
    const up = await upstream();
    const g = await gateway([up]);
    const reply = await fetch(`${g.url}/live`);
    expect(reply.status).toBe(426);
  });
});

function once(emitter: WebSocket, event: string): Promise<unknown[]> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args)));
}
