import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../core/index.js";
import { readWholeRecords } from "../support/records.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";

const KEY = "sk-test-parity";
/** Fixed usage with every special kind: cache reads and writes inside input, reasoning inside output. */
const USAGE = { inputTokens: 1000, outputTokens: 200, cachedReadTokens: 600, cacheWriteTokens: 100, reasoningTokens: 50 };
const PRICE = { input: 2, cachedRead: 0.5, cacheWrite: 2.5, output: 8, reasoning: 16 };
// Each token charged once at its own rate: 300 plain input, 600 cached, 100 written, 150 plain output, 50 reasoning.
const EXPECTED_USD = (300 * 2 + 600 * 0.5 + 100 * 2.5 + 150 * 8 + 50 * 16) / 1e6;

describe("plain and streamed replies cost the same for the same usage", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startGateway({
      "keys.json": await keysFile([{ key: KEY, id: "k", tenant: "t" }]),
      "pricing.json": { updated: "2026-01-01", currency: "USD", models: { "priced-model": PRICE } },
      "p.pipeline.json": {
        id: "parity",
        routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
        backends: { mock: { use: "provider-mock", models: ["priced-model"], config: { usage: USAGE, chunks: 5 } } },
        steps: [
          { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } },
          { use: "stream-sse" },
          { use: "cost", config: { pricingFile: "./pricing.json" } },
          { use: "record-jsonl", config: { path: "./records.jsonl", batchSize: 1 } },
        ],
      },
    });
  });
  afterAll(() => gw?.close());

  const ask = (body: Record<string, unknown>, id: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", "x-request-id": id },
      body: JSON.stringify({ model: "priced-model", messages: [{ role: "user", content: "what does this cost?" }], ...body }),
    });

  it("records the same usage and the same cost, charged once per token, for plain and streamed requests", async () => {
    const plain = await ask({}, "parity-plain");
    expect(plain.status).toBe(200);
    expect(plain.headers.get("x-switchyard-cost-usd")).toBe("0.00315");
    const plainBody = (await plain.json()) as { usage: Record<string, unknown> };
    expect(plainBody.usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 200, prompt_tokens_details: { cached_tokens: 600 } });

    const streamed = await ask({ stream: true, stream_options: { include_usage: true } }, "parity-stream");
    expect(streamed.status).toBe(200);
    const sse = await streamed.text();
    expect(sse).toContain('"prompt_tokens":1000');
    expect(sse.trimEnd().endsWith("data: [DONE]")).toBe(true);

    // A client that does not ask for usage still gets priced: the gateway reads it from the upstream.
    const quiet = await ask({ stream: true }, "parity-stream-quiet");
    expect(quiet.status).toBe(200);
    await quiet.text();

    // close() drains: every record is written before it resolves.
    await gw.close();
    const { records, partial } = (await readWholeRecords(join(gw.dir, "records.jsonl"))) as { records: RequestRecord[]; partial: string };
    expect(partial).toBe("");
    // The client's x-request-id is kept on the record as clientRequestId; the record id is the gateway's own.
    const byId = Object.fromEntries(records.map((r) => [r.clientRequestId, r]));
    expect(Object.keys(byId).sort()).toEqual(["parity-plain", "parity-stream", "parity-stream-quiet"]);
    expect(byId["parity-plain"]!.stream).toBe(false);
    expect(byId["parity-stream"]!.stream).toBe(true);
    // Charging cached and written tokens again as plain input would have added 700 * 2 / 1e6.
    for (const record of records) {
      expect(record.usage, record.id).toEqual(USAGE);
      expect(record.costUsd, record.id).toBe(EXPECTED_USD);
    }
  });
});
