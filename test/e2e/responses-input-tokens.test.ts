/**
 * The Responses API's `POST /v1/responses/input_tokens` as a count-tokens route: answered by a
 * backend that counts (Anthropic's count_tokens, the request translated to it), in the Responses
 * API's own shape, read by the official openai SDK.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND_KEYS, matrixPipeline, MODEL_OF } from "../support/format-matrix-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { startFormatsUpstream, type FormatsUpstream } from "../support/upstream-formats.js";

const KEY = "sk-input-tokens";

describe("POST /v1/responses/input_tokens", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let openai: OpenAI;

  beforeAll(async () => {
    upstream = await startFormatsUpstream({ inputTokens: 42 });
    const base = matrixPipeline(upstream.origin, { routes: [{ method: "POST", path: "/v1/responses/input_tokens", format: "openai-responses", endpoint: "count-tokens" }] });
    const pipeline = { ...base, steps: [...base.steps.slice(0, 2), { use: "count-tokens" }, ...base.steps.slice(2)] };
    gw = await startGateway({ "matrix.pipeline.json": pipeline, "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]) }, BACKEND_KEYS.env);
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("counts a Responses request on a Claude backend's count_tokens, translated, and answers in the Responses shape", async () => {
    const count = await openai.responses.inputTokens.count({ model: MODEL_OF["anthropic-messages"], instructions: "Be brief.", input: "How many tokens is this?" });
    expect(count).toEqual({ object: "response.input_tokens", input_tokens: 42 });
    const seen = upstream.last();
    expect(seen).toMatchObject({ format: "anthropic-messages", endpoint: "count_tokens" });
    expect(seen.body).toMatchObject({ model: MODEL_OF["anthropic-messages"], system: "Be brief.", messages: [{ role: "user", content: [{ type: "text", text: "How many tokens is this?" }] }] });
  });

  it("is a 501 in OpenAI's shape when no backend of the model can count", async () => {
    const err = await openai.responses.inputTokens.count({ model: MODEL_OF.gemini, input: "Hi" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 501 });
  });
});
