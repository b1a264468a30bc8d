import type { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type Provider, type SseEvent, type UpstreamCall } from "../../../core/index.js";
import { SseParser } from "../../../lib/wire/sse.js";
import { configFor, createTestProvider } from "../../../testkit/index.js";
import providerOpenai from "../../../plugins/provider-openai/index.js";
import { closedPortUrl, startOpenAiUpstream, type OpenAiUpstream } from "../../support/upstream-openai.js";
import { RequestEnd } from "../../../core/index.js";

const API_KEY = "sk-test-0123456789abcdefSECRET";

let upstream: OpenAiUpstream;
const providers: Provider[] = [];

beforeAll(async () => {
  upstream = await startOpenAiUpstream();
});
afterAll(() => upstream.close());
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  upstream.set({});
  upstream.requests.length = 0;
});

async function openai(config: Record<string, unknown> = {}): Promise<Provider> {
  const provider = await createTestProvider(providerOpenai, { baseUrl: upstream.url, apiKey: API_KEY, ...config });
  providers.push(provider);
  return provider;
}

function call(overrides: Partial<UpstreamCall> = {}): UpstreamCall {
  const stream = overrides.stream ?? false;
  return {
    format: "openai-chat",
    model: "gpt-test",
    body: { model: "gpt-test", messages: [{ role: "user", content: "hello" }], ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) },
    stream,
    end: new RequestEnd(),
    requestId: "req-123",
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
    ...overrides,
  };
}

async function readText(body: Readable): Promise<string> {
  let text = "";
  for await (const chunk of body) text += chunk.toString();
  return text;
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => expect.unreachable("expected the call to fail"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe("provider-openai success", () => {
  it("posts the JSON body to {baseUrl}/chat/completions with auth, org, project, extra and request-id headers", async () => {
    const provider = await openai({ organization: "org-1", project: "proj-1", headers: { "X-Title": "switchyard tests" } });
    const c = call();
    const reply = await provider.send(c);
    expect(reply.status).toBe(200);
    expect(JSON.parse(await readText(reply.body))).toMatchObject({ object: "chat.completion", choices: [{ message: { content: "Hello from the test upstream." } }] });

    const [req] = upstream.requests;
    expect(req).toMatchObject({ method: "POST", path: "/v1/chat/completions", body: c.body });
    expect(req!.headers).toMatchObject({
      authorization: `Bearer ${API_KEY}`,
      "openai-organization": "org-1",
      "openai-project": "proj-1",
      "x-title": "switchyard tests",
      "x-request-id": "req-123",
      "content-type": "application/json",
      accept: "application/json",
    });
  });

  it("sends no authorization header when no apiKey is configured", async () => {
    const provider = await openai({ apiKey: undefined });
    await readText((await provider.send(call())).body);
    expect(upstream.requests[0]!.headers.authorization).toBeUndefined();
  });

  it("returns a streamed reply as it arrives, usage chunk and [DONE] included", async () => {
    upstream.set({ reply: "one two three", chunks: 3 });
    const provider = await openai();
    const reply = await provider.send(call({ stream: true }));
    expect(reply.headers["content-type"]).toMatch(/^text\/event-stream/);
    const events: SseEvent[] = [];
    const parser = new SseParser((e) => events.push(e));
    for await (const chunk of reply.body) parser.push(chunk);
    parser.end();
    expect(events.at(-1)!.data).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("one two three");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
    expect(upstream.requests[0]!.headers.accept).toBe("text/event-stream");
  });

  it("posts Responses calls to {baseUrl}/responses", async () => {
    const provider = await openai();
    const err = await failure(provider.send(call({ format: "openai-responses", body: { model: "gpt-test", input: "hi" } })));
    expect(upstream.requests[0]!.path).toBe("/v1/responses");
    // The test upstream has no Responses API: its 404 maps to not_found.
    expect(err).toMatchObject({ status: 404, type: "not_found", upstreamStatus: 404 });
  });

  it("refuses a format the backend is configured not to speak", async () => {
    const provider = await openai({ formats: ["openai-chat"] });
    expect(provider.formats).toEqual(["openai-chat"]);
    const err = await failure(provider.send(call({ format: "openai-responses" })));
    expect(err).toMatchObject({ status: 500, code: "format_not_supported" });
    expect(upstream.requests).toHaveLength(0);
  });

  it("speaks Azure: deployment path, api-version and api-key header", async () => {
    const provider = await openai({ baseUrl: upstream.origin, azure: { apiVersion: "2024-10-21" } });
    await readText((await provider.send(call({ model: "my deployment" }))).body);
    const [req] = upstream.requests;
    expect(req!.path).toBe("/openai/deployments/my%20deployment/chat/completions?api-version=2024-10-21");
    expect(req!.headers["api-key"]).toBe(API_KEY);
    expect(req!.headers.authorization).toBeUndefined();

    await failure(provider.send(call({ format: "openai-responses", body: { model: "d", input: "hi" } })));
    expect(upstream.requests[1]!.path).toBe("/openai/responses?api-version=2024-10-21");
  });
});

describe("provider-openai upstream errors", () => {
  it.each([
    [400, 400, "invalid_request"],
    [401, 401, "authentication"],
    [403, 403, "permission"],
    [404, 404, "not_found"],
    [408, 504, "timeout"],
    [413, 413, "payload_too_large"],
    [429, 429, "rate_limit"],
    [500, 502, "upstream_error"],
    [502, 502, "upstream_error"],
    [503, 503, "unavailable"],
  ])("maps upstream %i to %i %s with the upstream's message and retry-after", async (status, gatewayStatus, type) => {
    upstream.set({
      error: { status, body: { error: { message: `upstream says ${status}`, type: "some_error", code: "some_code", param: "messages" } }, headers: { "retry-after": "2" } },
    });
    const provider = await openai();
    const err = await failure(provider.send(call()));
    expect(err).toMatchObject({
      status: gatewayStatus,
      type,
      code: "some_code",
      param: "messages",
      message: `upstream says ${status}`,
      failure: "status",
      upstreamStatus: status,
      retryAfterMs: 2000,
      source: "provider-openai",
    });
  });

  it("prefers retry-after-ms and reads an HTTP-date retry-after", async () => {
    const provider = await openai();
    upstream.queue({ error: { status: 429, headers: { "retry-after": "20", "retry-after-ms": "1234" } } });
    expect((await failure(provider.send(call()))).retryAfterMs).toBe(1234);

    upstream.queue({ error: { status: 429, headers: { "retry-after": new Date(Date.now() + 60_000).toUTCString() } } });
    const { retryAfterMs } = await failure(provider.send(call()));
    expect(retryAfterMs).toBeGreaterThan(50_000);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it("gives a generic message for an HTML error page", async () => {
    upstream.set({ error: { status: 502, body: "<html><body>Bad Gateway</body></html>", headers: { "content-type": "text/html" } } });
    const err = await failure((await openai()).send(call()));
    expect(err).toMatchObject({ status: 502, code: "upstream_http_502", message: "the upstream replied with HTTP 502" });
  });

  it("reads only the head of a huge error body and still maps it", async () => {
    upstream.set({ error: { status: 500, body: `{"error":{"message":"${"x".repeat(1_000_000)}"}}` } });
    const err = await failure((await openai()).send(call()));
    // The JSON was cut at 64 KiB, so it is read as text and bounded.
    expect(err.status).toBe(502);
    expect(err.message.length).toBeLessThanOrEqual(1001);
  });

  it("never shows the API key or the upstream's address in an error message", async () => {
    const provider = await openai();
    const leaky = `Incorrect API key provided: ${API_KEY}. Try again at ${upstream.url} or 127.0.0.1:${upstream.port}. Bearer ${API_KEY}`;
    upstream.set({ error: { status: 401, body: { error: { message: leaky, type: "invalid_request_error", code: "invalid_api_key" } } } });
    const messages = [(await failure(provider.send(call()))).message];
    upstream.set({ error: { status: 500, body: leaky, headers: { "content-type": "text/plain" } } });
    messages.push((await failure(provider.send(call()))).message);
    upstream.set({ resetBeforeHeaders: true });
    messages.push((await failure(provider.send(call()))).message);
    const refused = await openai({ baseUrl: await closedPortUrl() });
    messages.push((await failure(refused.send(call()))).message);

    for (const message of messages) {
      expect(message).not.toContain(API_KEY);
      expect(message).not.toContain("SECRET");
      expect(message).not.toContain("127.0.0.1");
      expect(message).not.toContain(String(upstream.port));
    }
    expect(messages[0]).toContain("Incorrect API key provided");
  });
});

describe("provider-openai transport failures", () => {
  it("fails a refused connection as 502 with failure connect", async () => {
    const provider = await openai({ baseUrl: await closedPortUrl() });
    const err = await failure(provider.send(call()));
    expect(err).toMatchObject({ status: 502, type: "upstream_error", failure: "connect", code: "upstream_connect_failed" });
  });

  it("fails a connection reset before the reply as 502 with failure connect", async () => {
    upstream.set({ resetBeforeHeaders: true });
    const err = await failure((await openai()).send(call()));
    expect(err).toMatchObject({ status: 502, failure: "connect" });
  });

  it("fails slow headers as 504 with failure timeout", async () => {
    upstream.set({ headersDelayMs: 5_000 });
    const err = await failure((await openai()).send(call({ headersTimeoutMs: 50 })));
    expect(err).toMatchObject({ status: 504, type: "timeout", failure: "timeout", code: "upstream_headers_timeout" });
  });

  it("errors the body when the upstream goes quiet longer than the body timeout", async () => {
    upstream.set({ chunkDelayMs: 5_000 });
    const reply = await (await openai()).send(call({ stream: true, bodyTimeoutMs: 50 }));
    await expect(readText(reply.body)).rejects.toMatchObject({ code: "UND_ERR_BODY_TIMEOUT" });
  });

  it("errors the body when the upstream resets the connection mid-stream", async () => {
    upstream.set({ chunks: 4, resetAfterChunks: 2 });
    const reply = await (await openai()).send(call({ stream: true }));
    let text = "";
    const reading = (async () => {
      for await (const chunk of reply.body) text += chunk.toString();
    })();
    await expect(reading).rejects.toMatchObject({ code: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET)$/) });
    expect(text).not.toContain("[DONE]");
  });

  it("rethrows the caller's abort before headers and closes the upstream socket", async () => {
    upstream.set({ hang: true });
    const provider = await openai();
    const controller = new RequestEnd();
    const pending = provider.send(call({ end: controller }));
    await upstream.waitForRequests(1);
    const reason = new Error("client went away");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await upstream.requests[0]!.connectionClosed;
  });

  it("closes the upstream socket when aborted mid-stream", async () => {
    upstream.set({ chunks: 10, chunkDelayMs: 60_000 });
    const provider = await openai();
    const controller = new RequestEnd();
    const reply = await provider.send(call({ stream: true, end: controller }));
    const reading = readText(reply.body);
    const reason = new Error("client went away");
    controller.abort(reason);
    await expect(reading).rejects.toBe(reason);
    await upstream.requests[0]!.connectionClosed;
  });
});

describe("provider-openai pooling", () => {
  it("reuses kept-alive sockets: twenty sequential requests travel on at most two", async () => {
    const provider = await openai();
    for (let i = 0; i < 20; i++) await readText((await provider.send(call())).body);
    // undici may open a second socket when the next request is dispatched while the previous
    // one's completion is still being processed; it never opens one per request.
    expect(new Set(upstream.requests.map((r) => r.connection)).size).toBeLessThanOrEqual(2);
  });

  it("opens no more sockets than `connections` for concurrent requests", async () => {
    upstream.set({ headersDelayMs: 5 });
    const provider = await openai({ connections: 2 });
    const bodies = await Promise.all(Array.from({ length: 12 }, async () => readText((await provider.send(call())).body)));
    expect(bodies).toHaveLength(12);
    expect(new Set(upstream.requests.map((r) => r.connection)).size).toBe(2);
  });

  it("closes its kept-alive sockets on close(), which would otherwise stay open for minutes", async () => {
    // Both ends keep idle sockets for ten minutes: only close() can end this one within the test.
    const patient = await startOpenAiUpstream({}, { keepAliveTimeoutMs: 600_000 });
    try {
      const provider = await createTestProvider(providerOpenai, { baseUrl: patient.url, apiKey: API_KEY, keepAliveTimeoutMs: 600_000, keepAliveMaxTimeoutMs: 600_000 });
      await readText((await provider.send(call())).body);
      expect(patient.connections).toBe(1);
      await provider.close();
      await patient.waitForConnections(0, 10_000);
    } finally {
      await patient.close();
    }
  });
});

describe("provider-openai config", () => {
  it("applies defaults and requires baseUrl", () => {
    expect(configFor(providerOpenai, { baseUrl: "https://api.openai.com/v1" })).toMatchObject({
      formats: ["openai-chat", "openai-responses"],
      connectTimeoutMs: 10_000,
      headers: {},
    });
    expect(() => configFor(providerOpenai, {})).toThrow(/missing required property "baseUrl"/);
    expect(() => configFor(providerOpenai, { baseUrl: "ftp://x" })).toThrow(/baseUrl/);
    expect(() => configFor(providerOpenai, { baseUrl: "https://x/v1?a=1" })).toThrow(/baseUrl/);
  });

  it("rejects static headers the gateway sets itself, or that HTTP cannot carry, at create time", async () => {
    for (const headers of [{ "Content-Type": "text/plain" }, { Host: "evil.example" }, { "X-Request-Id": "fixed" }, { "x-ok": "a\r\nx-injected: 1" }]) {
      await expect(createTestProvider(providerOpenai, { baseUrl: upstream.url, headers })).rejects.toMatchObject({ code: "invalid_config" });
    }
  });

  it("lets a static Authorization header replace the bearer key (proxies with their own scheme)", async () => {
    const provider = await openai({ headers: { Authorization: "Basic dXNlcjpwYXNz" } });
    await readText((await provider.send(call())).body);
    expect(upstream.requests[0]!.headers.authorization).toBe("Basic dXNlcjpwYXNz");
    expect(upstream.requests[0]!.headers["user-agent"]).toBe("switchyard");
  });

  it("rejects a base URL carrying credentials at create time", async () => {
    await expect(createTestProvider(providerOpenai, { baseUrl: "https://user:pass@example.com/v1" })).rejects.toMatchObject({
      code: "invalid_config",
    });
  });
});
