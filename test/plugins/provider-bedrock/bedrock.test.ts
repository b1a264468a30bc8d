/**
 * provider-bedrock through the gateway, against a local Bedrock stand-in that recomputes each
 * request's SigV4 signature with the shared test key and streams real event-stream frames: every
 * client API with its official SDK, plain and streamed, with tools; cache tokens in usage; a
 * wrong secret (403), throttling with retry-after, and an exception frame mid-stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type UpstreamCall } from "../../../core/index.js";
import { createTestProvider } from "../../../testkit/index.js";
import providerBedrock from "../../../plugins/provider-bedrock/index.js";
import { standInVector, startBedrockUpstream, TEST_AWS, type BedrockUpstream } from "../../support/bedrock-upstream.js";
import { CLIENT_APIS, askWith, clientsFor } from "../../support/format-clients.js";
import { startGateway, type TestGateway } from "../../support/gateway.js";
import { FOUR_FORMAT_ROUTES } from "../../support/format-matrix-pipeline.js";
import { RequestEnd } from "../../../core/index.js";

const MODEL_ID = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";

let upstream: BedrockUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startBedrockUpstream();
  gw = await startGateway({
    "bedrock.pipeline.json": {
      id: "bedrock",
      routes: FOUR_FORMAT_ROUTES,
      backends: {
        bedrock: {
          use: "provider-bedrock", models: ["claude-bedrock"], modelMap: { "claude-bedrock": MODEL_ID },
          config: { region: TEST_AWS.region, baseUrl: upstream.url, accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: "${env:BEDROCK_TEST_SECRET}" },
        },
      },
      steps: [{ use: "translate" }, { use: "stream-sse" }],
    },
  }, { BEDROCK_TEST_SECRET: TEST_AWS.secretAccessKey });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

describe("provider-bedrock behind every client API", () => {
  for (const api of CLIENT_APIS) {
    for (const stream of [false, true]) {
      it(`${api} ${stream ? "streamed" : "plain"}: text through Converse${stream ? "Stream" : ""}, signature verified, cache tokens counted`, async () => {
        const before = upstream.seen.length;
        const seen = await askWith(clientsFor(gw.url, "unused"), api, { model: "claude-bedrock", system: "Be brief.", user: "Hi", maxTokens: 64, tools: false, stream });
        expect(seen.text).toBe("Hello from Bedrock!");
        expect(seen.backend).toBe("bedrock");
        // Converse's inputTokens excludes cache reads and writes; every client API but Anthropic's counts them in.
        expect(seen.usage.input).toBe(api === "anthropic-messages" ? 11 : 21);
        expect(seen.usage.output).toBe(5);
        const call = upstream.seen[before]!;
        expect(call).toMatchObject({ modelId: MODEL_ID, stream, signatureVerified: true });
        expect(call.path).toBe(`/model/${encodeURIComponent(MODEL_ID)}/${stream ? "converse-stream" : "converse"}`);
        expect(call.body.system).toEqual([{ text: "Be brief." }]);
        expect(call.body.inferenceConfig).toMatchObject({ maxTokens: 64 });
        expect(call.body.messages).toEqual([{ role: "user", content: [{ text: "Hi" }] }]);
        expect(call.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${TEST_AWS.accessKeyId}/\\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=`));
      });

      it(`${api} ${stream ? "streamed" : "plain"}: a tool call comes back as the client's own tool call`, async () => {
        const before = upstream.seen.length;
        const seen = await askWith(clientsFor(gw.url, "unused"), api, { model: "claude-bedrock", system: "Use tools.", user: "Weather in Paris?", maxTokens: 64, tools: true, stream });
        expect(seen.toolCalls).toHaveLength(1);
        expect(seen.toolCalls[0]).toMatchObject({ name: "get_weather", args: { city: "Paris" } });
        const sent = upstream.seen[before]!.body;
        expect(sent.toolConfig.tools[0].toolSpec).toMatchObject({ name: "get_weather", inputSchema: { json: { type: "object" } } });
      });
    }
  }
});

describe("provider-bedrock embeddings (InvokeModel, signed)", () => {
  const embedCall = (model: string, inputs: Array<string | number[]>) => ({ model, inputs, end: new RequestEnd(), requestId: "req-embed", headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000 });

  it("Titan: one call per text, vectors in order, its own token counts", async () => {
    const provider = await createTestProvider(providerBedrock, { region: TEST_AWS.region, baseUrl: upstream.url, accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: TEST_AWS.secretAccessKey });
    try {
      const before = upstream.seen.length;
      const result = await provider.embed!(embedCall("amazon.titan-embed-text-v2:0", ["one two", "three"]));
      expect(result).toEqual({ vectors: [standInVector("one two"), standInVector("three")], inputTokens: 3 });
      const calls = upstream.seen.slice(before);
      expect(calls.map((c) => [c.path, c.body, c.signatureVerified])).toEqual([
        [`/model/${encodeURIComponent("amazon.titan-embed-text-v2:0")}/invoke`, { inputText: "one two" }, true],
        [`/model/${encodeURIComponent("amazon.titan-embed-text-v2:0")}/invoke`, { inputText: "three" }, true],
      ]);
    } finally {
      await provider.close();
    }
  });

  it("Cohere: one call for the batch; token ids and non-embedding models refused with a 400", async () => {
    const provider = await createTestProvider(providerBedrock, { region: TEST_AWS.region, baseUrl: upstream.url, accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: TEST_AWS.secretAccessKey });
    try {
      const result = await provider.embed!(embedCall("cohere.embed-english-v3", ["alpha", "beta"]));
      expect(result.vectors).toEqual([standInVector("alpha"), standInVector("beta")]);
      expect(upstream.seen.at(-1)).toMatchObject({ body: { texts: ["alpha", "beta"], input_type: "search_document" }, signatureVerified: true });
      expect(provider.maxEmbeddingBatch).toBe(96);
      await expect(provider.embed!(embedCall("cohere.embed-english-v3", [[1, 2]]))).rejects.toMatchObject({ status: 400, param: "input" });
      await expect(provider.embed!(embedCall(MODEL_ID, ["x"]))).rejects.toMatchObject({ status: 400, param: "model" });
    } finally {
      await provider.close();
    }
  });
});

describe("provider-bedrock failures", () => {
  const call = (stream: boolean): UpstreamCall => ({
    format: "bedrock-converse", model: MODEL_ID, body: { messages: [{ role: "user", content: [{ text: "Hi" }] }] }, stream,
    end: new RequestEnd(), requestId: "req-1", headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000,
  });

  it("a wrong secret fails the signature check: 403 from the stand-in, with no secret in the error", async () => {
    const wrong = await createTestProvider(providerBedrock, { region: TEST_AWS.region, baseUrl: upstream.url, accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: "not-the-shared-test-secret" });
    try {
      const err = await wrong.send(call(false)).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).upstreamStatus).toBe(403);
      expect(upstream.seen.at(-1)!.signatureVerified).toBe(false);
      expect(JSON.stringify(err)).not.toContain("not-the-shared-test-secret");
    } finally {
      await wrong.close();
    }
  });

  it("credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN when the config names none", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: TEST_AWS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_AWS.secretAccessKey, AWS_SESSION_TOKEN: "session-token-from-env" });
    const fromEnv = await createTestProvider(providerBedrock, { region: TEST_AWS.region, baseUrl: upstream.url });
    process.env = saved;
    try {
      const reply = await fromEnv.send(call(false));
      for await (const _ of reply.body);
      expect(upstream.seen.at(-1)).toMatchObject({ signatureVerified: true, headers: { "x-amz-security-token": "session-token-from-env" } });
    } finally {
      await fromEnv.close();
    }
  });

  it("throttling is a 429 with the upstream's retry-after, for the attempt loop and key cooldown", async () => {
    const provider = await createTestProvider(providerBedrock, { region: TEST_AWS.region, baseUrl: upstream.url, accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: TEST_AWS.secretAccessKey });
    upstream.script({ kind: "error", status: 429, body: { message: "Too many requests, please wait before trying again." }, headers: { "retry-after": "3", "x-amzn-errortype": "ThrottlingException" } });
    try {
      const err = (await provider.send(call(false)).catch((e: unknown) => e)) as GatewayError;
      expect(err).toMatchObject({ status: 429, type: "rate_limit", upstreamStatus: 429, retryAfterMs: 3000 });
      expect(err.message).toContain("Too many requests");
    } finally {
      upstream.script(undefined);
      await provider.close();
    }
  });

  it("credential sets rotate: a throttled set cools and the same call moves on to the next", async () => {
    const second = { accessKeyId: "AKIDSWITCHYARDTEST02", secretAccessKey: TEST_AWS.secretAccessKey };
    const provider = await createTestProvider(providerBedrock, { region: TEST_AWS.region, baseUrl: upstream.url, credentials: [{ accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: TEST_AWS.secretAccessKey }, second] });
    try {
      upstream.script({ kind: "error", status: 429, body: { message: "slow down" }, headers: { "retry-after": "60" }, onlyForAccessKeyId: TEST_AWS.accessKeyId });
      const before = upstream.seen.length;
      for (let i = 0; i < 2; i++) {
        const reply = await provider.send(call(false));
        for await (const _ of reply.body);
      }
      const ids = upstream.seen.slice(before).map((s) => /Credential=([^/]+)/.exec(s.headers.authorization ?? "")![1]);
      // First call: set one (429), then set two on the same call; second call: set one is cooling, so set two.
      expect(ids).toEqual([TEST_AWS.accessKeyId, second.accessKeyId, second.accessKeyId]);
      expect(upstream.seen.slice(before).every((s) => s.signatureVerified)).toBe(true);
    } finally {
      upstream.script(undefined);
      await provider.close();
    }
  });

  it("an exception frame mid-stream ends the client's stream with its own error event", async () => {
    upstream.script({ kind: "stream-exception", exceptionType: "throttlingException", message: "Too many tokens" });
    try {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-bedrock", stream: true, messages: [{ role: "user", content: "Hi" }] }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('"content":"Hel"');
      expect(text).toMatch(/"error":\{[^}]*"message":"Too many tokens"/);
    } finally {
      upstream.script(undefined);
    }
  });
});
