import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readWholeRecords } from "../../support/records.js";
import { waitUntil } from "../../support/wait.js";
import { KEY, OTHER_KEY, startMcpHarness, type McpHarness } from "./mcp-harness.js";
import { initializeMessage, rawPost, rawSession, SseReader } from "./raw-mcp.js";

const auth = { authorization: `Bearer ${KEY}` };

describe("mcp-gateway front: the Streamable HTTP transport's answers to bad input", () => {
  let h: McpHarness;
  let session: string;
  beforeAll(async () => {
    h = await startMcpHarness({ gateway: { maxMessageBytes: 2048, allowedOrigins: ["https://app.example.com"], response: "json" } });
    session = await rawSession(h.url, auth);
  });
  afterAll(async () => {
    await h?.close();
  });
  const inSession = () => ({ ...auth, "mcp-session-id": session });

  it("answers requests as JSON when configured so, batches included, and ping", async () => {
    const reply = await rawPost(h.url, [{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "local__add", arguments: { a: 2, b: 3 } } }], inSession());
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toContain("application/json");
    const answers = JSON.parse(reply.text);
    expect(answers).toEqual([{ jsonrpc: "2.0", id: 1, result: {} }, { jsonrpc: "2.0", id: 2, result: { content: [{ type: "text", text: "5" }] } }]);
  });

  it("sends a server's request on the session's GET stream when answers are JSON (no POST stream to carry it)", async () => {
    const headers = { ...auth, "mcp-session-id": await rawSession(h.url, auth, { sampling: {} }) };
    const stream = await SseReader.open(h.url, headers);
    expect(stream.status).toBe(200);
    for (const [i, server] of ["local", "remote"].entries()) {
      const call = rawPost(h.url, { jsonrpc: "2.0", id: 20 + i, method: "tools/call", params: { name: `${server}__ask_model`, arguments: { prompt: "x" } } }, headers);
      const asked = await stream.nextMessage();
      expect(asked).toMatchObject({ method: "sampling/createMessage", id: expect.stringMatching(/^switchyard-\d+$/) });
      const answer = { jsonrpc: "2.0", id: asked.id, result: { model: "m", role: "assistant", content: { type: "text", text: "over GET" } } };
      expect((await rawPost(h.url, answer, headers)).status).toBe(202);
      const reply = await call;
      expect(JSON.parse(reply.text)).toMatchObject({ id: 20 + i, result: { content: [{ text: `${server} heard: over GET` }] } });
    }
    stream.cut();
  });

  it("accepts a notification with 202 and no body", async () => {
    const reply = await rawPost(h.url, { jsonrpc: "2.0", method: "notifications/roots/list_changed" }, inSession());
    expect(reply.status).toBe(202);
    expect(reply.text).toBe("");
  });

  it("answers malformed JSON with 400 and a parse error", async () => {
    const reply = await rawPost(h.url, '{"jsonrpc": "2.0", "id": 1, "method": ', inSession());
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text)).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } });
  });

  it("answers JSON that is no JSON-RPC message with 400 and a JSON-RPC error", async () => {
    const reply = await rawPost(h.url, { hello: "world" }, inSession());
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error.code).toBeLessThan(-32000);
  });

  it("answers an unknown method with -32601", async () => {
    const reply = await rawPost(h.url, { jsonrpc: "2.0", id: 9, method: "tools/explode" }, inSession());
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ id: 9, error: { code: -32601 } });
  });

  it("answers an oversize message with 413 and a JSON-RPC error, unread", async () => {
    const big = { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "local__echo", arguments: { text: "x".repeat(4096) } } };
    const reply = await rawPost(h.url, big, inSession());
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.text)).toMatchObject({ error: { code: -32000, message: expect.stringContaining("2048 bytes") } });
  });

  it("answers an unknown session id with 404, and another key's session as unknown", async () => {
    const unknown = await rawPost(h.url, { jsonrpc: "2.0", id: 4, method: "tools/list" }, { ...auth, "mcp-session-id": "no-such-session" });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ error: { code: -32001, message: "Session not found" } });
    const stolen = await rawPost(h.url, { jsonrpc: "2.0", id: 5, method: "tools/list" }, { authorization: `Bearer ${OTHER_KEY}`, "mcp-session-id": session });
    expect(stolen.status).toBe(404);
  });

  it("answers a request without a session id, other than initialize, with 400", async () => {
    const reply = await rawPost(h.url, { jsonrpc: "2.0", id: 6, method: "tools/list" }, auth);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error.message).toContain("Mcp-Session-Id");
  });

  it("answers an unsupported MCP-Protocol-Version with 400", async () => {
    const reply = await rawPost(h.url, { jsonrpc: "2.0", id: 7, method: "tools/list" }, { ...inSession(), "mcp-protocol-version": "1999-01-01" });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error.message).toContain("Unsupported protocol version");
  });

  it("refuses an Origin outside the allow list with 403 and lets a listed one in", async () => {
    const refused = await rawPost(h.url, initializeMessage(), { ...auth, origin: "https://evil.example" });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: -32000 } });
    const allowed = await rawPost(h.url, initializeMessage(), { ...auth, origin: "https://app.example.com" });
    expect(allowed.status).toBe(200);
  });

  it("answers a missing API key with 401 as a JSON-RPC error body", async () => {
    const reply = await rawPost(h.url, initializeMessage(), {});
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.text)).toMatchObject({ jsonrpc: "2.0", id: null, error: { data: { code: "missing_api_key" } } });
  });

  it("keeps arguments out of the records when no step opts in", async () => {
    await waitUntil(async () => (await readWholeRecords(h.records)).records.some((r) => r.mcp?.tool === "local__add"), () => "no record of the add call");
    const record = (await readWholeRecords(h.records)).records.find((r) => r.mcp?.tool === "local__add");
    expect(record.mcp.arguments).toBeUndefined();
    expect(record.mcp.result).toBeUndefined();
  });

  it("ends a session on DELETE; its id is unknown afterwards and its GET stream is refused", async () => {
    const own = await rawSession(h.url, auth);
    const headers = { ...auth, "mcp-session-id": own, "mcp-protocol-version": "2025-06-18" };
    const deleted = await fetch(h.url, { method: "DELETE", headers });
    expect(deleted.status).toBe(200);
    expect((await rawPost(h.url, { jsonrpc: "2.0", id: 8, method: "ping" }, headers)).status).toBe(404);
    expect((await SseReader.open(h.url, headers)).status).toBe(404);
  });
});
