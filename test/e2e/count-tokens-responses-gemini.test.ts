/**
 * Token counts in the Responses API (`POST /v1/responses/input_tokens`) and Gemini
 * (`models/{model}:countTokens`) as count-tokens routes: answered by a backend that counts
 * (Anthropic's count_tokens, Gemini's countTokens), passed through or translated, in the client
 * API's own shape, read by the official openai and @google/genai SDKs.
 */
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND_KEYS, matrixPipeline, MODEL_OF } from "../support/format-matrix-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { startFormatsUpstream, type FormatsUpstream } from "../support/upstream-formats.js";

const KEY = "sk-input-tokens";

describe("token counts: Responses input_tokens and Gemini countTokens", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let openai: OpenAI;

  beforeAll(async () => {
    upstream = await startFormatsUpstream({ inputTokens: 42 });
    const base = matrixPipeline(upstream.origin, {
      routes: [
        { method: "POST", path: "/v1/responses/input_tokens", format: "openai-responses", endpoint: "count-tokens" },
      ],
    });
    // Gemini's count shares the generate route's path shape: it must come first to be matched first.
    base.routes.unshift({ method: "POST", path: "/v1beta/models/:model\\:countTokens", format: "gemini", endpoint: "count-tokens" });
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
    const err = await openai.responses.inputTokens.count({ model: MODEL_OF["openai-chat"], input: "Hi" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 501 });
  });

  it("Gemini countTokens on a Gemini backend: its own countTokens, with the backend's key", async () => {
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: gw.url } });
    upstream.set({ inputTokens: 17 });
    const count = await ai.models.countTokens({ model: MODEL_OF.gemini, contents: "How many tokens is this?" });
    expect(count.totalTokens).toBe(17);
    const seen = upstream.last();
    expect(seen).toMatchObject({ format: "gemini", endpoint: "count_tokens", path: `/v1beta/models/${MODEL_OF.gemini}:countTokens` });
    expect(seen.headers["x-goog-api-key"]).toBe(BACKEND_KEYS.value("gemini"));
    expect(JSON.stringify(seen.body)).toContain("How many tokens is this?");
  });

  it("Gemini countTokens on a Claude backend: translated to Anthropic's count_tokens", async () => {
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: gw.url } });
    upstream.set({ inputTokens: 23 });
    const count = await ai.models.countTokens({ model: MODEL_OF["anthropic-messages"], contents: "Count me." });
    expect(count.totalTokens).toBe(23);
    expect(upstream.last()).toMatchObject({ format: "anthropic-messages", endpoint: "count_tokens", body: { messages: [{ role: "user", content: [{ type: "text", text: "Count me." }] }] } });
  });

  it("a Responses count on a Gemini backend: Gemini's countTokens answers, the request wrapped as its generateContentRequest", async () => {
    upstream.set({ inputTokens: 31 });
    const count = await openai.responses.inputTokens.count({ model: MODEL_OF.gemini, instructions: "Be brief.", input: "Count me too." });
    expect(count).toEqual({ object: "response.input_tokens", input_tokens: 31 });
    const seen = upstream.last();
    expect(seen).toMatchObject({ format: "gemini", endpoint: "count_tokens" });
    expect(seen.body.generateContentRequest).toMatchObject({
      model: `models/${MODEL_OF.gemini}`,
      systemInstruction: { parts: [{ text: "Be brief." }] },
      contents: [{ role: "user", parts: [{ text: "Count me too." }] }],
    });
  });

  it("another method (:embedContent) on the generate route is still refused, never sent as a generate", async () => {
    const res = await fetch(`${gw.url}/v1beta/models/${encodeURIComponent(`${MODEL_OF.gemini}:embedContent`)}`, {
      method: "POST",
      headers: { "x-goog-api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] }),
    });
    expect(res.status).toBe(404);
  });
});
