/**
 * A drain is held only by requests in progress: a connection that never sent a request (a load
 * balancer's pre-opened one, an SDK client's spare) is ended once in-flight work is done, rather
 * than holding the drain (and the process) until the client drops it. Node's server.close() and
 * closeIdleConnections() leave such a connection open.
 */
import { once } from "node:events";
import { connect } from "node:net";
import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { startGateway } from "../support/gateway.js";

describe("GatewayServer.drain with connections that sent nothing", () => {
  it("lets the open stream finish, then ends the silent connections and resolves well before its deadline", async () => {
    const gw = await startGateway({
      "p.pipeline.json": {
        id: "p",
        routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
        backends: { mock: { use: "provider-mock", config: { reply: "one two three four five", chunks: 5, chunkDelayMs: 50 } } },
        steps: [{ use: "stream-sse", config: { keepAliveMs: 0 } }],
      },
    });
    const silent = await Promise.all([0, 1, 2].map(async () => {
      const socket = connect({ host: "127.0.0.1", port: Number(new URL(gw.url).port) });
      await once(socket, "connect");
      return { socket, closed: once(socket, "close") };
    }));
    const agent = new Agent({ keepAliveTimeout: 600_000 });
    try {
      const stream = await request(`${gw.url}/v1/chat/completions`, {
        method: "POST", dispatcher: agent,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "mock", stream: true, messages: [{ role: "user", content: "count" }] }),
      });
      expect(stream.statusCode).toBe(200);
      // The silent sockets must not hold it: a drain still waiting for them never resolves (their client never drops them).
      const drained = gw.server.drain(600_000);
      const body = await stream.body.text();
      expect(body).toContain("[DONE]");
      expect(await drained).toEqual({ unfinished: 0 });
      await Promise.all(silent.map((s) => s.closed));
      for (const s of silent) expect(s.socket.destroyed).toBe(true);
    } finally {
      for (const s of silent) s.socket.destroy();
      await agent.close();
      await gw.reloader.close();
    }
  });
});
