import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type Provider, type SseEvent, type UpstreamCall } from "../../../core/index.js";
import { SseParser } from "../../../lib/wire/sse.js";
import { configFor, createTestProvider } from "../../../testkit/index.js";
import providerAnthropic from "../../../plugins/provider-anthropic/index.js";
import { closedPortUrl } from "../../support/upstream-openai.js";
import { RequestEnd } from "../../../core/index.js";

const API_KEY = "sk-ant-api03-TESTKEY0123456789";

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

/** A tiny Messages API: checks x-api-key, answers JSON or Anthropic's named SSE events, or a scripted error. */
let server: Server;
let origin: string;
const seen: Seen[] = [];
let scripted: { status: number; body: unknown; headers?: Record<string, string> } | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      const body = JSON.parse(raw || "null");
      seen.push({ path: req.url ?? "", headers: req.headers, body });
      const send = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));
      };
      if (scripted) return send(scripted.status, scripted.body, scripted.headers);
      if (req.url?.endsWith("/v1/messages/count_tokens")) {
        // Anthropic refuses generation settings here, as the real endpoint does.
        if ("max_tokens" in body || "stream" in body) return send(400, { type: "error", error: { type: "invalid_request_error", message: "max_tokens: Extra inputs are not permitted" } });
        return send(200, { input_tokens: JSON.stringify(body.messages).length });
      }
      if (!req.url?.endsWith("/v1/messages")) return send(404, { type: "error", error: { type: "not_found_error", message: "Not found" } });
      if (req.headers["x-api-key"] !== API_KEY) {
        return send(401, { type: "error", error: { type: "authentication_error", message: `invalid x-api-key ${String(req.headers["x-api-key"])}` } });
      }
      const message = { id: "msg_test", type: "message", role: "assistant", model: body.model, content: [{ type: "text", text: "Hi!" }], stop_reason: "end_turn" };
      if (!body.stream) return send(200, { ...message, usage: { input_tokens: 5, output_tokens: 2 } });
      res.writeHead(200, { "content-type": "text/event-stream" });
      const event = (name: string, data: unknown): boolean => res.write(`event: ${name}\ndata: ${JSON.stringify({ type: name, ...(data as object) })}\n\n`);
      event("message_start", { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 0 } } });
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
      event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hi!" } });
      event("content_block_stop", { index: 0 });
      event("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } });
      event("message_stop", {});
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const providers: Provider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  seen.length = 0;
  scripted = undefined;
});

async function anthropic(config: Record<string, unknown> = {}): Promise<Provider> {
  const provider = await createTestProvider(providerAnthropic, { baseUrl: origin, apiKey: API_KEY, ...config });
  providers.push(provider);
  return provider;
}

function call(overrides: Partial<UpstreamCall> = {}): UpstreamCall {
  const stream = overrides.stream ?? false;
  return {
    format: "anthropic-messages",
    model: "claude-test",
    body: { model: "claude-test", max_tokens: 64, messages: [{ role: "user", content: "hello" }], ...(stream ? { stream: true } : {}) },
    stream,
    end: new RequestEnd(),
    requestId: "req-a1",
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

describe("provider-anthropic", () => {
  it("posts the body to {baseUrl}/v1/messages with x-api-key, anthropic-version and request id", async () => {
    const provider = await anthropic();
    expect(provider.formats).toEqual(["anthropic-messages"]);
    const c = call();
    const reply = await provider.send(c);
    expect(JSON.parse(await readText(reply.body))).toMatchObject({ type: "message", content: [{ text: "Hi!" }] });
    const [req] = seen;
    expect(req).toMatchObject({ path: "/v1/messages", body: c.body });
    expect(req!.headers).toMatchObject({ "x-api-key": API_KEY, "anthropic-version": "2023-06-01", "x-request-id": "req-a1", "content-type": "application/json" });
    expect(req!.headers.authorization).toBeUndefined();
    expect(req!.headers["anthropic-beta"]).toBeUndefined();
  });

  it("sends configured betas joined in anthropic-beta, a configured version, and keeps a proxy path", async () => {
    const provider = await anthropic({ baseUrl: `${origin}/anthropic/`, version: "2024-01-01", beta: ["prompt-caching-2024-07-31", "output-128k-2025-02-19"] });
    await readText((await provider.send(call())).body);
    expect(seen[0]!.path).toBe("/anthropic/v1/messages");
    expect(seen[0]!.headers).toMatchObject({ "anthropic-version": "2024-01-01", "anthropic-beta": "prompt-caching-2024-07-31,output-128k-2025-02-19" });
  });

  it("returns Anthropic's named SSE events untouched for a stream", async () => {
    const reply = await (await anthropic()).send(call({ stream: true }));
    const events: SseEvent[] = [];
    const parser = new SseParser((e) => events.push(e));
    for await (const chunk of reply.body) parser.push(chunk);
    parser.end();
    expect(events.map((e) => e.event)).toEqual(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    expect(seen[0]!.headers.accept).toBe("text/event-stream");
  });

  it("maps 529 overloaded to 503 unavailable with Anthropic's message and type", async () => {
    scripted = { status: 529, body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } } };
    const err = await failure((await anthropic()).send(call()));
    expect(err).toMatchObject({ status: 503, type: "unavailable", code: "overloaded_error", message: "Overloaded", failure: "status", upstreamStatus: 529 });
  });

  it("maps 429 with retry-after to rate_limit with the delay", async () => {
    scripted = { status: 429, body: { type: "error", error: { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit" } }, headers: { "retry-after": "7" } };
    const err = await failure((await anthropic()).send(call()));
    expect(err).toMatchObject({ status: 429, type: "rate_limit", code: "rate_limit_error", retryAfterMs: 7000 });
  });

  it("maps a bad key to 401 authentication without echoing the key", async () => {
    const err = await failure((await anthropic({ apiKey: "sk-ant-api03-WRONGKEY999999" })).send(call()));
    expect(err).toMatchObject({ status: 401, type: "authentication", code: "authentication_error" });
    expect(err.message).toContain("invalid x-api-key");
    expect(err.message).not.toContain("WRONGKEY");
  });

  it("maps a 500 api_error to 502 upstream_error", async () => {
    scripted = { status: 500, body: { type: "error", error: { type: "api_error", message: "Internal server error" } } };
    expect(await failure((await anthropic()).send(call()))).toMatchObject({ status: 502, type: "upstream_error", upstreamStatus: 500 });
  });

  it("fails a refused connection as 502 connect", async () => {
    const provider = await anthropic({ baseUrl: (await closedPortUrl()).replace(/\/v1$/, "") });
    expect(await failure(provider.send(call()))).toMatchObject({ status: 502, failure: "connect" });
  });

  it("refuses formats other than anthropic-messages without calling upstream", async () => {
    expect(await failure((await anthropic()).send(call({ format: "openai-chat" })))).toMatchObject({ status: 500, code: "format_not_supported" });
    expect(seen).toHaveLength(0);
  });

  it("counts tokens at /v1/messages/count_tokens, sending only the fields that endpoint takes", async () => {
    const provider = await anthropic();
    const tools = [{ name: "f", description: "does f", input_schema: { type: "object" } }];
    const c = call({ body: { model: "claude-test", max_tokens: 64, stream: false, temperature: 0.5, system: "Be brief.", tools, messages: [{ role: "user", content: "hello" }] } });
    expect(await provider.countTokens!(c)).toEqual({ inputTokens: JSON.stringify(c.body.messages).length });
    expect(seen[0]).toMatchObject({ path: "/v1/messages/count_tokens", body: { model: "claude-test", system: "Be brief.", tools, messages: c.body.messages } });
    expect(Object.keys(seen[0]!.body).sort()).toEqual(["messages", "model", "system", "tools"]);
    expect(seen[0]!.headers).toMatchObject({ "x-api-key": API_KEY, "anthropic-version": "2023-06-01", accept: "application/json" });
  });

  it("fails a count as the upstream's error, and a reply without input_tokens as a bad upstream response", async () => {
    scripted = { status: 429, body: { type: "error", error: { type: "rate_limit_error", message: "slow down" } }, headers: { "retry-after": "3" } };
    expect(await failure((await anthropic()).countTokens!(call()))).toMatchObject({ status: 429, type: "rate_limit", retryAfterMs: 3000 });
    scripted = { status: 200, body: { tokens: 5 } };
    expect(await failure((await anthropic()).countTokens!(call()))).toMatchObject({ status: 502, code: "bad_upstream_response" });
  });

  it("defaults to Anthropic's public API", () => {
    expect(configFor(providerAnthropic, {})).toMatchObject({ baseUrl: "https://api.anthropic.com", version: "2023-06-01", beta: [] });
    expect(() => configFor(providerAnthropic, { beta: ["has space"] })).toThrow(/beta/);
  });
});
