/**
 * WebSocket sessions in the metrics: http-proxy relays an echo backend's session while
 * metrics-prometheus is scraped, and the scrape shows the open session and the bytes each way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { waitUntil, within } from "../support/wait.js";
import { closed, openClient, startWsUpstream, type WsUpstream } from "../support/ws-upstream.js";

const ADMIN_KEY = "sk-metrics-ws-admin-0001";

describe("metrics-prometheus with WebSocket sessions", () => {
  let gw: TestGateway;
  let up: WsUpstream;

  beforeAll(async () => {
    up = await startWsUpstream();
    const keys = (await keysFile([{ key: ADMIN_KEY, id: "ops", tenant: "ops" }])) as { keys: Array<Record<string, unknown>> };
    keys.keys[0]!.role = "admin";
    gw = await startGateway({
      "keys.json": keys,
      "web.pipeline.json": {
        id: "web",
        routes: [
          { method: "GET", path: "/metrics", format: "http", endpoint: "metrics" },
          { path: "/live", format: "http", endpoint: "proxy" },
        ],
        backends: { echo: { use: "provider-http", config: { baseUrl: up.url } } },
        steps: [
          { use: "metrics-prometheus" },
          { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 }, when: { path: "/metrics" } },
          { use: "http-proxy" },
        ],
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  async function scrape(): Promise<string> {
    const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.status).toBe(200);
    return res.text();
  }

  it("counts an open session and its message bytes each way, and the session's end", async () => {
    const client = await openClient(`${gw.url.replace(/^http/, "ws")}/live`);
    const echoed = new Promise((resolve) => client.once("message", resolve));
    client.send("twelve bytes");
    await within(echoed, "the echo");
    const during = await scrape();
    expect(during).toContain('switchyard_websocket_sessions_open{pipeline="web",step="http-proxy"} 1');
    expect(during).toContain('switchyard_websocket_message_bytes{pipeline="web",step="http-proxy",direction="up"} 12');
    expect(during).toContain('switchyard_websocket_message_bytes{pipeline="web",step="http-proxy",direction="down"} 12');
    const done = closed(client);
    client.close(1000, "bye");
    await done;
    // The client has its close frame; the gateway counts the session ended once its own side closes.
    let after = "";
    await waitUntil(async () => (after = await scrape()).includes('switchyard_websocket_sessions_open{pipeline="web",step="http-proxy"} 0'), () => after);
    expect(after).toContain('switchyard_websocket_sessions_accepted{pipeline="web",step="http-proxy"} 1');
  });
});
