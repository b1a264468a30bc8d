import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";
import { within } from "../support/wait.js";

describe("a client that goes away mid-stream", () => {
  let upstream: OpenAiUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    // Ten minutes of chunks: the upstream socket closes within the test only if the gateway closes it.
    upstream = await startOpenAiUpstream({ chunks: 30_000, chunkDelayMs: 20 });
    gw = await startGateway({
      "abort.pipeline.json": {
        id: "abort",
        routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
        backends: { local: { use: "provider-openai", config: { baseUrl: upstream.url } } },
        steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }, { use: "stream-sse" }],
      },
      "keys.json": await keysFile([{ key: "sk-abort", id: "k", tenant: "t" }]),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("closes the upstream connection at once", async () => {
    const controller = new AbortController();
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-abort", "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "long story" }] }),
      signal: controller.signal,
    });
    expect(res.statusCode).toBe(200);
    let received = 0;
    const reading = (async () => {
      for await (const chunk of res.body) {
        received += (chunk as Buffer).length;
        if (received > 300) controller.abort();
      }
    })().catch(() => {});
    await reading;
    const upstreamRequest = upstream.requests.at(-1)!;
    await within(upstreamRequest.connectionClosed, "the upstream socket closing after the client left");
    await gw.server.drain(1000);
  });
});
