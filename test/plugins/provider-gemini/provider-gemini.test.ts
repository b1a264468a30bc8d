import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type Provider, type SseEvent, type UpstreamCall } from "../../../core/index.js";
import { SseParser } from "../../../lib/wire/sse.js";
import { configFor, createTestProvider } from "../../../testkit/index.js";
import providerGemini from "../../../plugins/provider-gemini/index.js";
import { closedPortUrl } from "../../support/upstream-openai.js";
import { RequestEnd } from "../../../core/index.js";

const API_KEY = "AIzaSyTESTKEY_0123456789abcdefghij";

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

/** A tiny Generative Language API: model and method in the path, key in x-goog-api-key, Google's error shape. */
let server: Server;
let origin: string;
const seen: Seen[] = [];
let scripted: { status: number; body: unknown; headers?: Record<string, string> } | undefined;

const ROUTE = /^\/(v1beta|v1)\/(models|tunedModels)\/([^/:]+):(generateContent|streamGenerateContent)(\?alt=sse)?$/;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      seen.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(raw || "null") });
      const send = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { "content-type": "application/json; charset=UTF-8", ...headers }).end(JSON.stringify(value));
      };
      if (scripted) return send(scripted.status, scripted.body, scripted.headers);
      const route = ROUTE.exec(req.url ?? "");
      if (!route) return send(404, { error: { code: 404, message: "Requested entity was not found.", status: "NOT_FOUND" } });
      if (req.headers["x-goog-api-key"] !== API_KEY) {
        return send(400, { error: { code: 400, message: `API key not valid: ${String(req.headers["x-goog-api-key"])}`, status: "INVALID_ARGUMENT" } });
      }
      const candidate = (text: string, finishReason?: string) => ({
        candidates: [{ content: { role: "model", parts: [{ text }] }, ...(finishReason ? { finishReason } : {}), index: 0 }],
        modelVersion: decodeURIComponent(route[3]!),
      });
      if (route[4] === "generateContent") return send(200, { ...candidate("Hi!", "STOP"), usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 } });
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${JSON.stringify(candidate("H"))}\r\n\r\n`);
      res.end(`data: ${JSON.stringify({ ...candidate("i!", "STOP"), usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 } })}\r\n\r\n`);
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

async function gemini(config: Record<string, unknown> = {}): Promise<Provider> {
  const provider = await createTestProvider(providerGemini, { baseUrl: origin, apiKey: API_KEY, ...config });
  providers.push(provider);
  return provider;
}

function call(overrides: Partial<UpstreamCall> = {}): UpstreamCall {
  return {
    format: "gemini",
    model: "gemini-test",
    body: { model: "gemini-test", contents: [{ role: "user", parts: [{ text: "hello" }] }], generationConfig: { maxOutputTokens: 64 } },
    stream: false,
    end: new RequestEnd(),
    requestId: "req-g1",
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

describe("provider-gemini", () => {
  it.each(["gemini-x/../../../stats", "models/..", "models/a/b", "publishers/google/models/x", "../admin", "tunedModels/."])(
    "refuses model %s with a 400 before anything goes upstream: the name would become URL path segments",
    async (model) => {
      const provider = await gemini();
      const err = await failure(provider.send(call({ model })));
      expect(err).toMatchObject({ status: 400, code: "invalid_model", param: "model" });
      expect(seen).toEqual([]);
    },
  );

  it("posts to /v1beta/models/{model}:generateContent with x-goog-api-key and a body without model", async () => {
    const provider = await gemini();
    expect(provider.formats).toEqual(["gemini"]);
    const reply = await provider.send(call());
    expect(JSON.parse(await readText(reply.body))).toMatchObject({ candidates: [{ content: { parts: [{ text: "Hi!" }] } }], modelVersion: "gemini-test" });
    const [req] = seen;
    expect(req!.path).toBe("/v1beta/models/gemini-test:generateContent");
    expect(req!.body).toEqual({ contents: [{ role: "user", parts: [{ text: "hello" }] }], generationConfig: { maxOutputTokens: 64 } });
    expect(req!.headers).toMatchObject({ "x-goog-api-key": API_KEY, "x-request-id": "req-g1", "content-type": "application/json" });
    expect(req!.path).not.toContain("key=");
  });

  it("streams from :streamGenerateContent?alt=sse", async () => {
    const reply = await (await gemini()).send(call({ stream: true }));
    const events: SseEvent[] = [];
    const parser = new SseParser((e) => events.push(e));
    for await (const chunk of reply.body) parser.push(chunk);
    parser.end();
    expect(seen[0]!.path).toBe("/v1beta/models/gemini-test:streamGenerateContent?alt=sse");
    expect(seen[0]!.headers.accept).toBe("text/event-stream");
    expect(events.map((e) => JSON.parse(e.data).candidates[0].content.parts[0].text).join("")).toBe("Hi!");
  });

  it("keeps full resource names and the configured API version", async () => {
    const provider = await gemini({ apiVersion: "v1" });
    await readText((await provider.send(call({ model: "tunedModels/my-tuned" }))).body);
    await readText((await provider.send(call({ model: "models/gemini-test" }))).body);
    expect(seen.map((s) => s.path)).toEqual(["/v1/tunedModels/my-tuned:generateContent", "/v1/models/gemini-test:generateContent"]);
  });

  it("escapes a model name so it cannot change the path", async () => {
    const provider = await gemini();
    await readText((await provider.send(call({ model: "x:streamGenerateContent?alt=sse#" }))).body);
    expect(seen[0]!.path).toBe("/v1beta/models/x%3AstreamGenerateContent%3Falt%3Dsse%23:generateContent");
  });

  it("maps Google's INVALID_ARGUMENT 400 to invalid_request without echoing the key", async () => {
    const err = await failure((await gemini({ apiKey: "AIzaSyWRONG_KEY_9876543210zyxwvu" })).send(call()));
    expect(err).toMatchObject({ status: 400, type: "invalid_request", code: "invalid_argument", failure: "status", upstreamStatus: 400 });
    expect(err.message).toContain("API key not valid");
    expect(err.message).not.toContain("WRONG_KEY");
  });

  it.each([
    [429, "RESOURCE_EXHAUSTED", 429, "rate_limit"],
    [403, "PERMISSION_DENIED", 403, "permission"],
    [503, "UNAVAILABLE", 503, "unavailable"],
    [500, "INTERNAL", 502, "upstream_error"],
  ])("maps %i %s to %i %s", async (status, googleStatus, gatewayStatus, type) => {
    scripted = { status, body: [{ error: { code: status, message: `google says ${googleStatus}`, status: googleStatus } }], headers: { "retry-after": "3" } };
    const err = await failure((await gemini()).send(call()));
    expect(err).toMatchObject({ status: gatewayStatus, type, code: googleStatus.toLowerCase(), message: `google says ${googleStatus}`, retryAfterMs: 3000 });
  });

  it("fails a refused connection as 502 connect", async () => {
    const provider = await gemini({ baseUrl: (await closedPortUrl()).replace(/\/v1$/, "") });
    expect(await failure(provider.send(call()))).toMatchObject({ status: 502, failure: "connect" });
  });

  it("refuses formats other than gemini without calling upstream", async () => {
    expect(await failure((await gemini()).send(call({ format: "openai-chat" })))).toMatchObject({ status: 500, code: "format_not_supported" });
    expect(seen).toHaveLength(0);
  });

  it("defaults to Google's public API, v1beta", () => {
    expect(configFor(providerGemini, {})).toMatchObject({ baseUrl: "https://generativelanguage.googleapis.com", apiVersion: "v1beta" });
    expect(() => configFor(providerGemini, { apiVersion: "../x" })).toThrow(/apiVersion/);
  });
});
