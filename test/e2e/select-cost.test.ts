/** select-cost in a real gateway: the cheapest backend serves, and fallback goes to the next cheapest. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ask, startFaultGateway, type FaultGateway } from "../support/fault-gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";

const PRICING = {
  updated: "2026-01-01",
  currency: "USD",
  models: { "dear-model": { input: 10, output: 30 }, "cheap-model": { input: 0.1, output: 0.4 }, "mid-model": { input: 1, output: 4 } },
};

describe("select-cost end to end", () => {
  let ups: OpenAiUpstream[];
  let gw: FaultGateway;

  beforeAll(async () => {
    ups = await Promise.all([startOpenAiUpstream(), startOpenAiUpstream(), startOpenAiUpstream(), startOpenAiUpstream()]);
    gw = await startFaultGateway({
      upstreams: ups.map((u) => u.url),
      modelMaps: { a: { "gpt-test": "dear-model" }, b: { "gpt-test": "cheap-model" }, c: { "gpt-test": "mid-model" }, d: { "gpt-test": "unpriced-model" } },
      selector: { use: "select-cost", config: { pricingFile: "./pricing.json" } },
      attempts: { maxAttempts: 4 },
      files: { "pricing.json": PRICING },
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(ups.map((u) => u.close()));
  });

  it("sends the request to the backend whose model is cheapest, under that backend's model name", async () => {
    const { response } = await gw.client.chat.completions.create(ask()).withResponse();
    expect(response.headers.get("x-switchyard-backend")).toBe("b");
    expect(ups[1]!.requests.at(-1)!.body.model).toBe("cheap-model");
  });

  it("falls back in rising price, the unpriced backend last", async () => {
    for (const u of ups.slice(0, 3)) u.queue({ error: { status: 503 } });
    const { response } = await gw.client.chat.completions.create(ask()).withResponse();
    expect(response.headers.get("x-switchyard-backend")).toBe("d");
    const record = await gw.record(response.headers.get("x-switchyard-request-id")!);
    expect(record.attempts.map((x: { backend: string; model: string; status: number }) => `${x.backend}:${x.model}:${x.status}`)).toEqual([
      "b:cheap-model:503",
      "c:mid-model:503",
      "a:dear-model:503",
      "d:unpriced-model:200",
    ]);
  });
});
