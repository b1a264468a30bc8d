/** A backend with several API keys behind a real gateway: a rate-limited key is invisible to the client. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ask, startFaultGateway, type FaultGateway } from "../support/fault-gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";

const KEYS = ["sk-e2e-key-one-0123456789", "sk-e2e-key-two-0123456789"];

describe("apiKeys end to end", () => {
  let a: OpenAiUpstream;
  let b: OpenAiUpstream;
  let gw: FaultGateway;

  beforeAll(async () => {
    [a, b] = await Promise.all([startOpenAiUpstream(), startOpenAiUpstream()]);
    gw = await startFaultGateway({ upstreams: [a.url, b.url], backendConfigs: { a: { apiKey: undefined, apiKeys: KEYS } }, attempts: { maxAttempts: 2 } });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([a.close(), b.close()]);
  });

  it("answers from the same backend in one attempt when its first key is rate-limited", async () => {
    a.queue({ error: { status: 429, headers: { "retry-after": "30" } } });
    const { response } = await gw.client.chat.completions.create(ask()).withResponse();
    expect(response.headers.get("x-switchyard-backend")).toBe("a");
    expect(response.headers.get("x-switchyard-attempts")).toBe("1");
    expect(a.requests.map((r) => r.headers.authorization)).toEqual(KEYS.map((k) => `Bearer ${k}`));
  });

  it("falls back to the next backend once every key is cooling, without asking the cooling one", async () => {
    a.queue({ error: { status: 429, headers: { "retry-after": "30" } } });
    const before = a.requests.length;
    const { response } = await gw.client.chat.completions.create(ask()).withResponse();
    // Key one still cools from the first test; key two now too: a fails at once, b serves.
    expect(a.requests.length).toBe(before + 1);
    expect(response.headers.get("x-switchyard-backend")).toBe("b");
    const record = await gw.record(response.headers.get("x-switchyard-request-id")!);
    expect(record.attempts[0]).toMatchObject({ backend: "a", status: 429, failure: "status" });

    const again = await gw.client.chat.completions.create(ask()).withResponse();
    expect(again.response.headers.get("x-switchyard-backend")).toBe("b");
    expect(a.requests.length).toBe(before + 1);
    const second = await gw.record(again.response.headers.get("x-switchyard-request-id")!);
    expect(second.attempts[0]).toMatchObject({ backend: "a", status: 429, errorCode: "api_keys_cooling" });
  });
});
