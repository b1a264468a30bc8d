/**
 * Upstream errors (400, 401, 429 with retry-after, 500), each in the upstream API's own error
 * shape, reach every client SDK through the gateway in the client's own shape, and the SDK raises
 * its proper error class. The gateway makes one attempt and the clients none, so every upstream
 * status is the client's answer.
 */
import Anthropic from "@anthropic-ai/sdk";
import { ApiError } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askWith, CLIENT_APIS, clientsFor, type ClientApi, type Clients } from "../support/format-clients.js";
import { BACKEND_KEYS, MODEL_OF, matrixPipeline } from "../support/format-matrix-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { startFormatsUpstream, type FormatsUpstream, type UpstreamFormat } from "../support/upstream-formats.js";

const KEY = "sk-errors-client";

/** What the client must see for each upstream status: its HTTP status and each format's error names. */
const CASES = {
  400: { status: 400, openai: "invalid_request_error", anthropic: "invalid_request_error", google: "INVALID_ARGUMENT", OpenAiClass: OpenAI.BadRequestError, AnthropicClass: Anthropic.BadRequestError },
  401: { status: 401, openai: "authentication_error", anthropic: "authentication_error", google: "UNAUTHENTICATED", OpenAiClass: OpenAI.AuthenticationError, AnthropicClass: Anthropic.AuthenticationError },
  429: { status: 429, openai: "rate_limit_error", anthropic: "rate_limit_error", google: "RESOURCE_EXHAUSTED", OpenAiClass: OpenAI.RateLimitError, AnthropicClass: Anthropic.RateLimitError },
  // An upstream's 500 is the gateway's 502: the fault is upstream, not the gateway's own.
  500: { status: 502, openai: "api_error", anthropic: "api_error", google: "INTERNAL", OpenAiClass: OpenAI.InternalServerError, AnthropicClass: Anthropic.InternalServerError },
} as const;
type UpstreamStatus = keyof typeof CASES;

/** The upstream's message; a 401 echoes the backend's key, as OpenAI's does, which no client may see. */
function upstreamMessage(status: UpstreamStatus, backend: UpstreamFormat): string {
  if (status === 401) return `Incorrect API key provided: sk-upstream-${backend}-secret. You can find your API key in your dashboard.`;
  return `upstream ${backend} refused with ${status}: try again`;
}

describe("upstream errors reach every client SDK as its own error class and shape", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let clients: Clients;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    gw = await startGateway({ "matrix.pipeline.json": matrixPipeline(upstream.origin), "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]) }, BACKEND_KEYS.env);
    clients = clientsFor(gw.url, KEY);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  for (const client of CLIENT_APIS) {
    for (const backend of CLIENT_APIS) {
      for (const status of [400, 401, 429, 500] as const) {
        for (const stream of [false, true]) {
          it(`${client} client, ${backend} upstream ${status}${stream ? ", streaming request" : ""}`, async () => {
            const message = upstreamMessage(status, backend);
            upstream.queue({ error: { status, message, ...(status === 429 ? { retryAfter: 7 } : {}) } });
            const err = await askWith(clients, client, { model: MODEL_OF[backend], system: "Be brief.", user: "Hi", maxTokens: 20, tools: false, stream }).then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(upstream.last().format).toBe(backend);
            expectClientError(client, err, status, message);
          });
        }
      }
    }
  }

  it("a Gemini client's 429 carries the upstream's retry-after", async () => {
    upstream.queue({ error: { status: 429, message: "quota exceeded", retryAfter: 7 } });
    const res = await fetch(`${gw.url}/v1beta/models/${MODEL_OF["anthropic-messages"]}:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toEqual({ error: { code: 429, message: "quota exceeded", status: "RESOURCE_EXHAUSTED" } });
  });
});

function expectClientError(client: ClientApi, err: unknown, status: UpstreamStatus, upstreamText: string): void {
  const want = CASES[status];
  const shown = status === 401 ? "Incorrect API key provided" : upstreamText;
  switch (client) {
    case "openai-chat":
    case "openai-responses": {
      expect(err).toBeInstanceOf(want.OpenAiClass);
      const e = err as InstanceType<typeof OpenAI.APIError>;
      expect(e.status).toBe(want.status);
      expect(e.error).toMatchObject({ type: want.openai });
      expect((e.error as { message: string }).message).toContain(shown);
      expect(e.message).not.toContain("sk-upstream-");
      if (status === 429) expect(e.headers?.get("retry-after")).toBe("7");
      return;
    }
    case "anthropic-messages": {
      expect(err).toBeInstanceOf(want.AnthropicClass);
      const e = err as InstanceType<typeof Anthropic.APIError>;
      expect(e.status).toBe(want.status);
      expect(e.error).toMatchObject({ type: "error", error: { type: want.anthropic } });
      expect((e.error as { error: { message: string } }).error.message).toContain(shown);
      expect(e.message).not.toContain("sk-upstream-");
      if (status === 429) expect(e.headers?.get("retry-after")).toBe("7");
      return;
    }
    case "gemini": {
      expect(err).toBeInstanceOf(ApiError);
      const e = err as ApiError;
      expect(e.status).toBe(want.status);
      const body = JSON.parse(e.message) as { error: { code: number; message: string; status: string } };
      expect(body.error).toMatchObject({ code: want.status, status: want.google });
      expect(body.error.message).toContain(shown);
      expect(e.message).not.toContain("sk-upstream-");
      return;
    }
  }
}
