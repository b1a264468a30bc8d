import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestProvider } from "../../../testkit/index.js";
import providerOpenai from "../../../plugins/provider-openai/index.js";
import { apiKeyRotationSuite, KEYS } from "../../support/api-key-rotation.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../../support/upstream-openai.js";
import { RequestEnd } from "../../../core/index.js";

const call = () => ({
  format: "openai-chat",
  model: "gpt-test",
  body: { model: "gpt-test", messages: [{ role: "user", content: "hello" }] },
  stream: false,
  end: new RequestEnd(),
  requestId: "req-keys",
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
});

apiKeyRotationSuite({
  plugin: providerOpenai,
  config: (upstream) => ({ baseUrl: upstream.url }),
  keyOf: (headers) => headers.authorization?.replace(/^Bearer /, ""),
  call,
});

describe("provider-openai with apiKeys on Azure", () => {
  let upstream: OpenAiUpstream;
  beforeAll(async () => {
    upstream = await startOpenAiUpstream();
  });
  afterAll(() => upstream.close());

  it("sends the rotating key in the api-key header and no authorization", async () => {
    const provider = await createTestProvider(providerOpenai, { baseUrl: upstream.origin, azure: {}, apiKeys: KEYS.slice(0, 2) });
    for (let i = 0; i < 2; i++) for await (const _ of (await provider.send(call())).body);
    await provider.close();
    expect(upstream.requests.map((r) => r.headers["api-key"])).toEqual(KEYS.slice(0, 2));
    expect(upstream.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });
});
