/**
 * provider-vertex through the gateway, against a local token endpoint (which verifies the
 * service account's signed JWT) and a Vertex stand-in that takes only the bearer tokens it issued:
 * every client API with its official SDK, plain and streamed, with tools, on Gemini and on
 * Anthropic models; the token kept until shortly before expiry and shared by concurrent calls;
 * a revoked token replaced; Vertex's 429 with retry-after.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type UpstreamCall } from "../../../core/index.js";
import { createTestProvider } from "../../../testkit/index.js";
import providerVertex from "../../../plugins/provider-vertex/index.js";
import { CLIENT_APIS, askWith, clientsFor } from "../../support/format-clients.js";
import { startGateway, type TestGateway } from "../../support/gateway.js";
import { startVertexStandIn, VERTEX_LOCATION, VERTEX_PROJECT, type VertexStandIn } from "../../support/vertex-upstream.js";
import { FOUR_FORMAT_ROUTES } from "../../support/format-matrix-pipeline.js";
import { RequestEnd } from "../../../core/index.js";

let vertex: VertexStandIn;
let gw: TestGateway;

beforeAll(async () => {
  vertex = await startVertexStandIn();
  const common = { projectId: VERTEX_PROJECT, location: VERTEX_LOCATION, baseUrl: vertex.vertexUrl, tokenUrl: vertex.tokenUrl, serviceAccountKey: "${file:./sa.json}" };
  gw = await startGateway({
    "sa.json": vertex.serviceAccountKey,
    "vertex.pipeline.json": {
      id: "vertex",
      routes: FOUR_FORMAT_ROUTES,
      backends: {
        "vertex-gemini": { use: "provider-vertex", models: ["gemini-*"], config: { ...common, publisher: "google" } },
        "vertex-claude": { use: "provider-vertex", models: ["claude-vertex"], modelMap: { "claude-vertex": "claude-sonnet-4@20250514" }, config: { ...common, publisher: "anthropic" } },
      },
      steps: [{ use: "translate" }, { use: "stream-sse" }],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await vertex?.close();
});

const CASES = [
  { model: "gemini-2.0-flash-001", backend: "vertex-gemini", publisher: "google", upstreamModel: "gemini-2.0-flash-001", text: "Hello from Vertex Gemini!" },
  { model: "claude-vertex", backend: "vertex-claude", publisher: "anthropic", upstreamModel: "claude-sonnet-4@20250514", text: "Hello from Vertex Claude!" },
] as const;

describe("provider-vertex behind every client API", () => {
  for (const c of CASES) {
    for (const api of CLIENT_APIS) {
      for (const stream of [false, true]) {
        it(`${c.publisher} model, ${api} ${stream ? "streamed" : "plain"}: text and a tool call, with the issued bearer token`, async () => {
          const clients = clientsFor(gw.url, "unused");
          const before = vertex.seen.length;
          const seen = await askWith(clients, api, { model: c.model, system: "Be brief.", user: "Hi", maxTokens: 64, tools: false, stream });
          expect(seen.text).toBe(c.text);
          expect(seen.backend).toBe(c.backend);
          const call = vertex.seen[before]!;
          const method = c.publisher === "google" ? (stream ? "streamGenerateContent" : "generateContent") : stream ? "streamRawPredict" : "rawPredict";
          expect(call).toMatchObject({ publisher: c.publisher, model: c.upstreamModel, method });
          expect(call.authorization).toMatch(/^Bearer ya29\.vertex-test-\d+$/);
          const withTool = await askWith(clients, api, { model: c.model, system: "Use tools.", user: "Weather in Paris?", maxTokens: 64, tools: true, stream });
          expect(withTool.toolCalls).toHaveLength(1);
          expect(withTool.toolCalls[0]).toMatchObject({ name: "get_weather", args: { city: "Paris" } });
        });
      }
    }
  }

  it("one token exchange per backend served every call above: the token is kept until shortly before it expires", () => {
    expect(vertex.tokensIssued()).toBe(2);
  });
});

describe("provider-vertex tokens and failures", () => {
  const call = (): UpstreamCall => ({
    format: "gemini", model: "gemini-2.0-flash-001", body: { contents: [{ role: "user", parts: [{ text: "Hi" }] }] }, stream: false,
    end: new RequestEnd(), requestId: "req-vertex", headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000,
  });
  const config = () => ({ projectId: VERTEX_PROJECT, location: VERTEX_LOCATION, baseUrl: vertex.vertexUrl, tokenUrl: vertex.tokenUrl, serviceAccountKey: vertex.serviceAccountKey });
  const drain = async (p: Promise<{ body: AsyncIterable<unknown> }>) => {
    for await (const _ of (await p).body);
  };

  it("concurrent calls share one exchange; a token about to expire is exchanged anew", async () => {
    const provider = await createTestProvider(providerVertex, config());
    try {
      const before = vertex.tokensIssued();
      vertex.setTokenLifetime(3600);
      await Promise.all(Array.from({ length: 5 }, () => drain(provider.send(call()))));
      expect(vertex.tokensIssued()).toBe(before + 1);
      // Within the renewal margin (5 minutes) of its expiry from the start: every call exchanges.
      const short = await createTestProvider(providerVertex, config());
      vertex.setTokenLifetime(120);
      await drain(short.send(call()));
      await drain(short.send(call()));
      expect(vertex.tokensIssued()).toBe(before + 3);
      await short.close();
    } finally {
      vertex.setTokenLifetime(3600);
      await provider.close();
    }
  });

  it("a token Vertex refuses (401) is dropped: the next call exchanges a new one", async () => {
    const provider = await createTestProvider(providerVertex, config());
    try {
      await drain(provider.send(call()));
      const issued = vertex.tokensIssued();
      vertex.revokeTokens();
      const err = (await provider.send(call()).catch((e: unknown) => e)) as GatewayError;
      expect(err).toBeInstanceOf(GatewayError);
      expect(err.upstreamStatus).toBe(401);
      await drain(provider.send(call()));
      expect(vertex.tokensIssued()).toBe(issued + 1);
    } finally {
      await provider.close();
    }
  });

  it("a given access token is sent as it is, with no exchange", async () => {
    const before = vertex.tokensIssued();
    const keyed = await createTestProvider(providerVertex, config());
    await drain(keyed.send(call()));
    const token = vertex.seen.at(-1)!.authorization!.slice("Bearer ".length);
    const provider = await createTestProvider(providerVertex, { projectId: VERTEX_PROJECT, location: VERTEX_LOCATION, baseUrl: vertex.vertexUrl, accessToken: token });
    try {
      await drain(provider.send(call()));
      expect(vertex.seen.at(-1)!.authorization).toBe(`Bearer ${token}`);
      expect(vertex.tokensIssued()).toBe(before + 1);
    } finally {
      await provider.close();
      await keyed.close();
    }
  });

  it("a bad signing key is refused by the token endpoint: a 502 that names the exchange, no key material", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const key = { ...JSON.parse(vertex.serviceAccountKey), private_key: other };
    const provider = await createTestProvider(providerVertex, { ...config(), serviceAccountKey: JSON.stringify(key) });
    try {
      const err = (await provider.send(call()).catch((e: unknown) => e)) as GatewayError;
      expect(err).toMatchObject({ status: 502, code: "token_exchange_failed", upstreamStatus: 400 });
      expect(err.message).toContain("Invalid JWT Signature");
      expect(JSON.stringify(err)).not.toContain("PRIVATE KEY");
    } finally {
      await provider.close();
    }
  });

  it("Vertex's 429 is a rate limit with its retry-after, for the attempt loop", async () => {
    const provider = await createTestProvider(providerVertex, config());
    vertex.script({ status: 429, body: { error: { code: 429, message: "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute", status: "RESOURCE_EXHAUSTED" } }, headers: { "retry-after": "7" } });
    try {
      const err = (await provider.send(call()).catch((e: unknown) => e)) as GatewayError;
      expect(err).toMatchObject({ status: 429, type: "rate_limit", upstreamStatus: 429, retryAfterMs: 7000 });
    } finally {
      vertex.script(undefined);
      await provider.close();
    }
  });
});
