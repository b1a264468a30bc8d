import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";

/** An upstream that sends a whole SSE stream in a single write and ends: the end must not be missed. */
const chunk = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
const base = { id: "c1", object: "chat.completion.chunk", created: 1, model: "m" };
const WHOLE_STREAM =
  chunk({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }) +
  chunk({ ...base, choices: [{ index: 0, delta: { content: "all at once" }, finish_reason: null }] }) +
  chunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) +
  chunk({ ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } }) +
  "data: [DONE]\n\n";

describe("an upstream that sends the whole stream in one write", () => {
  let upstream: Server;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(WHOLE_STREAM);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    gw = await startGateway({
      "one.pipeline.json": {
        id: "one",
        routes: [
          { path: "/v1/chat/completions", format: "openai-chat" },
          { path: "/v1/messages", format: "anthropic-messages" },
        ],
        backends: { up: { use: "provider-openai", config: { baseUrl: url } } },
        steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }, { use: "translate" }, { use: "stream-sse" }],
        timeouts: { totalMs: 5000 },
      },
      "keys.json": await keysFile([{ key: "sk-one", id: "k", tenant: "t" }]),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await new Promise((r) => upstream?.close(r));
  });

  async function stream(path: string, body: object, headers: Record<string, string>) {
    const res = await request(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body), headersTimeout: 3000, bodyTimeout: 3000 });
    return { status: res.statusCode, text: await res.body.text() };
  }

  it("ends the passthrough stream after [DONE]", async () => {
    const r = await stream("/v1/chat/completions", { model: "m", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] }, { authorization: "Bearer sk-one" });
    expect(r.status).toBe(200);
    expect(r.text).toContain("all at once");
    expect(r.text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("ends the translated stream with message_stop", async () => {
    const r = await stream("/v1/messages", { model: "m", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi" }] }, { "x-api-key": "sk-one" });
    expect(r.status).toBe(200);
    expect(r.text).toContain("all at once");
    expect(r.text).toContain("event: message_stop");
  });
});
