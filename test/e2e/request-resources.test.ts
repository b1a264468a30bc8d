import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";

/** No per-request timer or handle may outlive its request (a 10-minute budget timer once did, on http routes). */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("what a finished request leaves behind", () => {
  let origin: Server;
  let gw: TestGateway;

  beforeAll(async () => {
    origin = createServer((req, res) => {
      req.resume();
      res.end("ok");
    });
    await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    gw = await startGateway({
      "r.pipeline.json": {
        id: "r",
        routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
        backends: { mock: { use: "provider-mock", models: ["mock"] } },
        steps: [{ use: "stream-sse" }],
      },
      "web.pipeline.json": {
        id: "web",
        routes: [{ path: "/web", format: "http", endpoint: "proxy" }],
        backends: { web: { use: "provider-http", config: { baseUrl: base } } },
        steps: [{ use: "http-proxy" }],
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await new Promise((r) => origin?.close(r));
  });

  async function burst(send: () => Promise<void>) {
    await send(); // warm pools and caches first
    const before = timers();
    for (let i = 0; i < 40; i++) await send();
    // Allow the stray timers of the load itself (keep-alive, pools) a little headroom, never 40.
    expect(timers() - before).toBeLessThan(5);
  }

  it("on a model route, plain and streamed", async () => {
    await burst(async () => {
      const res = await request(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock", messages: [{ role: "user", content: "hi" }] }) });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    });
    await burst(async () => {
      const res = await request(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock", stream: true, messages: [{ role: "user", content: "hi" }] }) });
      await res.body.text();
    });
  });

  it("on an http route", async () => {
    await burst(async () => {
      const res = await request(`${gw.url}/web/x`);
      expect(res.statusCode).toBe(200);
      await res.body.text();
    });
  });
});
