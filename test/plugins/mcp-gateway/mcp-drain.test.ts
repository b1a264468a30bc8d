import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { Client as HttpConnection } from "undici";
import { KEY, startMcpHarness, type McpHarness } from "./mcp-harness.js";
import { ACCEPT_BOTH, rawSession } from "./raw-mcp.js";

const auth = { authorization: `Bearer ${KEY}` };

describe("mcp-gateway on drain", () => {
  let h: McpHarness;
  const connections: HttpConnection[] = [];
  beforeAll(async () => {
    h = await startMcpHarness();
  });
  afterAll(async () => {
    await Promise.allSettled(connections.map((c) => c.destroy()));
    await h?.close();
  });

  // One keep-alive connection each, opened before the drain: a drain refuses new connections, so
  // a request during it can only come on one that was busy when it began.
  const connection = () => {
    const c = new HttpConnection(h.gateway.url, { pipelining: 1 });
    connections.push(c);
    return c;
  };

  it("ends an open GET stream at once, answers a new GET with 503, and finishes without waiting for the deadline", async () => {
    const session = await rawSession(h.url, auth);
    const headers = { ...auth, "mcp-session-id": session, "mcp-protocol-version": LATEST_PROTOCOL_VERSION };
    // A call still running when the drain begins keeps the drain going while the GET is tried again.
    const calling = connection();
    const cancelCall = new AbortController();
    const call = calling.request({
      path: "/mcp", method: "POST", signal: cancelCall.signal,
      headers: { ...headers, "content-type": "application/json", accept: ACCEPT_BOTH },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "local__wait", arguments: {}, _meta: { progressToken: "started" } } }),
    });
    const callResponse = await call;
    const callEvents = callResponse.body.setEncoding("utf8")[Symbol.asyncIterator]();
    for (let seen = ""; !seen.includes("notifications/progress"); ) seen += (await callEvents.next()).value;

    const listening = connection();
    const stream = await listening.request({ path: "/mcp", method: "GET", headers: { ...headers, accept: "text/event-stream" } });
    expect(stream.statusCode).toBe(200);
    const streamEnded = stream.body.text();

    const drained = h.gateway.server.drain(120_000);
    await streamEnded; // resolves only when the server ends the stream

    const again = await listening.request({ path: "/mcp", method: "GET", headers: { ...headers, accept: "text/event-stream" } });
    expect(again.statusCode).toBe(503);
    expect(JSON.parse(await again.body.text())).toMatchObject({ jsonrpc: "2.0", error: { code: -32000, message: expect.stringContaining("shutting down") } });

    cancelCall.abort();
    await callEvents.return?.().catch(() => undefined);
    expect(await drained).toEqual({ unfinished: 0 });
  });
});
