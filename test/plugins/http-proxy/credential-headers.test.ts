/**
 * The gateway's own API key never goes upstream on an http route: every header the auth step
 * reads a key from is dropped before forwarding, with no `dropHeaders` needed. Other headers, and
 * a route without auth, are forwarded as before.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../../support/gateway.js";
import { send } from "../../support/http-client.js";
import { echo, startUpstream, type HttpUpstream } from "../../support/http-upstream.js";

const KEY = "sk-gateway-client-key-0001";
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function gateway(up: HttpUpstream, steps: unknown[], providerConfig: Record<string, unknown> = {}): Promise<TestGateway> {
  const g = await startGateway({
    "web.pipeline.json": {
      id: "web",
      routes: [{ path: "/", format: "http", endpoint: "proxy" }],
      backends: { app: { use: "provider-http", config: { baseUrl: up.url, ...providerConfig } } },
      steps: [...steps, { use: "http-proxy" }],
    },
    "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]),
  });
  opened.unshift(g);
  return g;
}

async function upstream(): Promise<HttpUpstream> {
  const up = await startUpstream(echo);
  opened.push(up);
  return up;
}

describe("http-proxy and the gateway's own credentials", () => {
  for (const [header, value] of [["authorization", `Bearer ${KEY}`], ["x-api-key", KEY], ["x-goog-api-key", KEY]] as const) {
    it(`drops ${header}, which auth read the gateway key from, and forwards the rest`, async () => {
      const up = await upstream();
      const g = await gateway(up, [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }]);
      const reply = await send(`${g.url}/page`, { headers: { [header]: value, "x-custom": "kept" } });
      expect(reply.status).toBe(200);
      const seen = up.seen.at(-1)!;
      expect(seen.rawHeaders.join("\n")).not.toContain(KEY);
      expect(seen.headers["x-custom"]).toBe("kept");
    });
  }

  it("drops every header auth looks in, also a second one holding another value", async () => {
    const up = await upstream();
    const g = await gateway(up, [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }]);
    const reply = await send(`${g.url}/page`, { headers: { authorization: `Bearer ${KEY}`, "x-api-key": "sk-gateway-other-key" } });
    expect(reply.status).toBe(200);
    const seen = up.seen.at(-1)!;
    expect(seen.headers["x-api-key"]).toBeUndefined();
    expect(seen.headers.authorization).toBeUndefined();
  });

  it("only drops the headers a step configured with its own header list reads", async () => {
    const up = await upstream();
    const g = await gateway(up, [{ use: "auth-api-key", config: { keysFile: "./keys.json", headers: ["x-gateway-key"] } }]);
    const reply = await send(`${g.url}/page`, { headers: { "x-gateway-key": KEY, authorization: "Bearer for-the-upstream" } });
    expect(reply.status).toBe(200);
    const seen = up.seen.at(-1)!;
    expect(seen.headers["x-gateway-key"]).toBeUndefined();
    expect(seen.headers.authorization).toBe("Bearer for-the-upstream");
  });

  it("forwards the client's authorization on a route without auth", async () => {
    const up = await upstream();
    const g = await gateway(up, []);
    const reply = await send(`${g.url}/page`, { headers: { authorization: "Bearer for-the-upstream" } });
    expect(reply.status).toBe(200);
    expect(up.seen.at(-1)!.headers.authorization).toBe("Bearer for-the-upstream");
  });
});
