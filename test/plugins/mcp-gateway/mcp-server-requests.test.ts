import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, PingRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { waitUntil } from "../../support/wait.js";
import { KEY, startMcpHarness, textOf, type McpHarness } from "./mcp-harness.js";
import { rawPost, rawSession, SseReader } from "./raw-mcp.js";

const SERVERS = ["local", "remote"] as const;
const auth = { authorization: `Bearer ${KEY}` };
const ALL = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } };

describe("mcp-gateway: requests from the servers to the client", () => {
  let h: McpHarness;
  beforeAll(async () => {
    h = await startMcpHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("passes a server's sampling request to the client under an id of the gateway's, and the answer back", async () => {
    const client = await h.connect(KEY, { capabilities: ALL });
    const seenIds: unknown[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (request, extra) => {
      seenIds.push(extra.requestId);
      const asked = request.params.messages[0]!.content as { text: string };
      return { model: "test-model", role: "assistant", content: { type: "text", text: `echo ${asked.text}` } };
    });
    for (const server of SERVERS) {
      expect(textOf(await client.callTool({ name: `${server}__ask_model`, arguments: { prompt: "hi" } }))).toBe(`${server} heard: echo hi`);
    }
    expect(seenIds).toHaveLength(2);
    for (const id of seenIds) expect(id).toMatch(/^switchyard-\d+$/);
    expect(new Set(seenIds).size).toBe(2);
  });

  it("passes elicitation, roots/list and ping from each server to the client", async () => {
    const client = await h.connect(KEY, { capabilities: ALL });
    let pings = 0;
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: { name: "Ada" } }));
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: "file:///work", name: "work" }] }));
    client.setRequestHandler(PingRequestSchema, async () => {
      pings += 1;
      return {};
    });
    for (const server of SERVERS) {
      expect(textOf(await client.callTool({ name: `${server}__ask_user`, arguments: {} }))).toBe("accept:Ada");
      expect(textOf(await client.callTool({ name: `${server}__list_roots`, arguments: {} }))).toBe("file:///work");
      expect(textOf(await client.callTool({ name: `${server}__ping_client`, arguments: {} }))).toBe("pong");
    }
    expect(pings).toBe(2);
  });

  it("answers a server asking for a capability the client did not declare with -32601", async () => {
    const client = await h.connect(KEY, { capabilities: { roots: {} } });
    for (const server of SERVERS) {
      expect(textOf(await client.callTool({ name: `${server}__ask_model`, arguments: { prompt: "hi" } }))).toMatch(/^error -32601/);
      expect(textOf(await client.callTool({ name: `${server}__ask_user`, arguments: {} }))).toMatch(/^error -32601/);
    }
  });

  it("sends the request on the SSE stream of the call that caused it, and routes the client's answer to the server", async () => {
    const headers = { ...auth, "mcp-session-id": await rawSession(h.url, auth, { sampling: {} }) };
    let id = 10;
    for (const server of SERVERS) {
      const call = await SseReader.post(h.url, { jsonrpc: "2.0", id: ++id, method: "tools/call", params: { name: `${server}__ask_model`, arguments: { prompt: "raw" } } }, headers);
      expect(call.status).toBe(200);
      const asked = await call.nextMessage();
      expect(asked).toMatchObject({ method: "sampling/createMessage", id: expect.stringMatching(/^switchyard-\d+$/) });
      const answer = { jsonrpc: "2.0", id: asked.id, result: { model: "m", role: "assistant", content: { type: "text", text: "by hand" } } };
      expect((await rawPost(h.url, answer, headers)).status).toBe(202);
      expect(await call.nextMessage()).toMatchObject({ id, result: { content: [{ type: "text", text: `${server} heard: by hand` }] } });
      // The same answer again answers nothing any more.
      expect((await rawPost(h.url, answer, headers)).status).toBe(400);
    }
  });

  it("answers a response whose id the session never sent with 400 and -32600", async () => {
    const headers = { ...auth, "mcp-session-id": await rawSession(h.url, auth, ALL) };
    for (const id of ["switchyard-999", 5]) {
      const reply = await rawPost(h.url, { jsonrpc: "2.0", id, result: {} }, headers);
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.text)).toMatchObject({ jsonrpc: "2.0", error: { code: -32600, message: expect.stringContaining(JSON.stringify(id)) } });
    }
    const batch = await rawPost(h.url, [{ jsonrpc: "2.0", method: "notifications/roots/list_changed" }, { jsonrpc: "2.0", id: "nope", error: { code: 1, message: "x" } }], headers);
    expect(batch.status).toBe(400);
  });

  it("passes the client's progress on a server's request to the server under its token, and the server's cancellation to the client under the client's id", async () => {
    const client = await h.connect(KEY, { capabilities: ALL });
    for (const server of SERVERS) {
      let cancelledId: unknown;
      let tokenSeen: unknown;
      let cancelled!: () => void;
      const aborted = new Promise<void>((resolve) => (cancelled = resolve));
      client.setRequestHandler(CreateMessageRequestSchema, async (_request, extra) => {
        tokenSeen = extra._meta?.progressToken;
        extra.signal.addEventListener("abort", () => {
          cancelledId = extra.requestId;
          cancelled();
        }, { once: true });
        await extra.sendNotification({ method: "notifications/progress", params: { progressToken: tokenSeen as string, progress: 1, message: "thinking" } });
        await aborted;
        return { model: "m", role: "assistant", content: { type: "text", text: "too late" } };
      });
      expect(textOf(await client.callTool({ name: `${server}__ask_then_cancel`, arguments: {} }))).toBe("cancelled after progress 1 (thinking)");
      await aborted;
      expect(tokenSeen).toMatch(/^switchyard-\d+$/);
      expect(cancelledId).toBe(tokenSeen);
    }
  });

  it("tells the servers a session uses that its client's roots changed", async () => {
    const client = await h.connect(KEY, { capabilities: ALL });
    for (const server of SERVERS) {
      const before = Number(textOf(await client.callTool({ name: `${server}__roots_changes`, arguments: {} })));
      await client.sendRootsListChanged();
      await waitUntil(async () => Number(textOf(await client.callTool({ name: `${server}__roots_changes`, arguments: {} }))) > before, () => `${server} never heard roots/list_changed`);
    }
  });

  it("answers a shared stdio server's request with an error when two sessions have calls running on it", async () => {
    const waiting = await h.connect(KEY, { capabilities: ALL });
    const asking = await h.connect(KEY, { capabilities: ALL });
    asking.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: "m", role: "assistant", content: { type: "text", text: "answered" } }));
    const controller = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const wait = waiting.callTool({ name: "local__wait", arguments: {} }, undefined, { signal: controller.signal, onprogress: () => started() });
    await running;
    expect(textOf(await asking.callTool({ name: "local__ask_model", arguments: { prompt: "hi" } }))).toMatch(/^error -32000: .*2 client sessions have calls running/);
    // The HTTP server has a session of its own per client session: no doubt whom it asks.
    expect(textOf(await asking.callTool({ name: "remote__ask_model", arguments: { prompt: "hi" } }))).toBe("remote heard: answered");
    const cancellations = async () => Number(textOf(await asking.callTool({ name: "local__cancellations", arguments: {} })));
    const before = await cancellations();
    controller.abort();
    await expect(wait).rejects.toThrow();
    // The server hears of the cancellation only after the gateway ended the call: one session runs calls on it again.
    await waitUntil(async () => (await cancellations()) > before, () => "the stdio server never saw the cancellation");
    expect(textOf(await asking.callTool({ name: "local__ask_model", arguments: { prompt: "hi" } }))).toBe("local heard: answered");
  });
});

describe("mcp-gateway: a server's request outside any call", () => {
  let h: McpHarness;
  beforeAll(async () => {
    h = await startMcpHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const lastRoots = async (headers: Record<string, string>, server: string) => {
    const reply = await rawPost(h.url, { jsonrpc: "2.0", id: 90, method: "tools/call", params: { name: `${server}__last_roots`, arguments: {} } }, headers);
    return textOf(sseMessages(reply.text).find((m) => m.id === 90)?.result);
  };

  it("goes on the session's GET stream: to the only session using a stdio server, and to an HTTP server's own session", async () => {
    const headers = { ...auth, "mcp-session-id": await rawSession(h.url, auth, { roots: { listChanged: true } }) };
    for (const server of SERVERS) expect((await rawPost(h.url, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: `${server}__echo`, arguments: { text: "use" } } }, headers)).status).toBe(200);
    const stream = await SseReader.open(h.url, headers);
    expect(stream.status).toBe(200);
    expect((await rawPost(h.url, { jsonrpc: "2.0", method: "notifications/roots/list_changed" }, headers)).status).toBe(202);
    // Each server asks once; which comes first is theirs to decide.
    for (let i = 0; i < SERVERS.length; i++) {
      const asked = await stream.nextMessage();
      expect(asked).toMatchObject({ method: "roots/list", id: expect.stringMatching(/^switchyard-\d+$/) });
      expect((await rawPost(h.url, { jsonrpc: "2.0", id: asked.id, result: { roots: [{ uri: "file:///only" }] } }, headers)).status).toBe(202);
    }
    for (const server of SERVERS) await waitUntil(async () => (await lastRoots(headers, server)) === "file:///only", () => `${server} never got the roots`);

    stream.cut();
  });
});

/** The JSON-RPC messages of an SSE body, in order. */
function sseMessages(text: string): any[] {
  return text.split("\n").filter((line) => line.startsWith("data:") && line.slice(5).trim() !== "").map((line) => JSON.parse(line.slice(5)));
}
