/**
 * Model listings per pipeline, each in its route's format (openai's models.list, the Anthropic
 * SDK's models.list, genai's models.list), and Anthropic's count_tokens answered by the backend
 * that can count: the Anthropic upstream's own endpoint, the mock's estimate, or a 501.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND_KEYS } from "../support/format-matrix-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { startFormatsUpstream, type FormatsUpstream } from "../support/upstream-formats.js";

const KEY = "sk-models-client";
const steps = [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }, { use: "validate" }, { use: "list-models" }, { use: "count-tokens" }, { use: "translate" }, { use: "stream-sse" }];

describe("model listings and token counts through the gateway", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    const origin = upstream.origin;
    gw = await startGateway(
      {
        // Three pipelines served together, each listing only its own backends' models.
        "openai.pipeline.json": {
          id: "openai",
          routes: [
            { method: "POST", path: "/v1/chat/completions", format: "openai-chat" },
            { method: "GET", path: "/v1/models", format: "openai-chat", endpoint: "models" },
          ],
          backends: {
            chat: { use: "provider-openai", models: ["gpt-4o-mini", "gpt-4.1", "ft:gpt-*"], config: { baseUrl: `${origin}/v1`, apiKey: "${env:MATRIX_CHAT_KEY}" } },
            mock: { use: "provider-mock", models: ["mock-small", "gpt-4o-mini"] },
          },
          steps,
        },
        "anthropic.pipeline.json": {
          id: "anthropic",
          routes: [
            { method: "POST", path: "/anthropic/v1/messages", format: "anthropic-messages" },
            { method: "POST", path: "/anthropic/v1/messages/count_tokens", format: "anthropic-messages", endpoint: "count-tokens" },
            { method: "GET", path: "/anthropic/v1/models", format: "anthropic-messages", endpoint: "models" },
          ],
          backends: {
            claude: { use: "provider-anthropic", models: ["claude-sonnet-4-5", "claude-haiku-4-5"], config: { baseUrl: origin, apiKey: "${env:MATRIX_ANTHROPIC_KEY}" } },
            mock: { use: "provider-mock", models: ["mock-claude"], config: {} },
            openai: { use: "provider-openai", models: ["gpt-4o-mini"], config: { baseUrl: `${origin}/v1`, apiKey: "${env:MATRIX_CHAT_KEY}" } },
          },
          steps,
        },
        "gemini.pipeline.json": {
          id: "gemini",
          routes: [
            { method: "POST", path: "/v1beta/models/:target", format: "gemini" },
            { method: "GET", path: "/v1beta/models", format: "gemini", endpoint: "models" },
          ],
          backends: { google: { use: "provider-gemini", models: ["gemini-2.0-flash", "gemini-2.5-pro"], config: { baseUrl: origin, apiKey: "${env:MATRIX_GEMINI_KEY}" } } },
          steps,
        },
        "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]),
      },
      BACKEND_KEYS.env,
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("lists an OpenAI pipeline's concrete models once each, owned by the first backend serving them", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const models: OpenAI.Models.Model[] = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => [m.id, m.owned_by, m.object])).toEqual([
      ["gpt-4o-mini", "chat", "model"],
      ["gpt-4.1", "chat", "model"],
      ["mock-small", "mock", "model"],
    ]);
  });

  it("lists an Anthropic pipeline's models in Anthropic's shape for the Anthropic SDK", async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: KEY, maxRetries: 0 });
    const models: Anthropic.ModelInfo[] = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => [m.id, m.type])).toEqual([
      ["claude-sonnet-4-5", "model"],
      ["claude-haiku-4-5", "model"],
      ["mock-claude", "model"],
      ["gpt-4o-mini", "model"],
    ]);
    expect(models[0]!.display_name).toBe("claude-sonnet-4-5");
  });

  it("lists a Gemini pipeline's models for genai's models.list", async () => {
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: gw.url } });
    const names: (string | undefined)[] = [];
    for await (const model of await ai.models.list()) names.push(model.name);
    expect(names).toEqual(["models/gemini-2.0-flash", "models/gemini-2.5-pro"]);
  });

  it("counts tokens on the Anthropic upstream's count_tokens, with only the fields that endpoint takes and the backend's key", async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: KEY, maxRetries: 0 });
    upstream.queue({ inputTokens: 1234 });
    const tools = [{ name: "get_weather", description: "Weather for a city.", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }];
    const count = await client.messages.countTokens({ model: "claude-sonnet-4-5", system: "Be brief.", tools, messages: [{ role: "user", content: "Weather in Oslo?" }] });
    expect(count).toEqual({ input_tokens: 1234 });
    const seen = upstream.last();
    expect(seen).toMatchObject({ format: "anthropic-messages", endpoint: "count_tokens", path: "/v1/messages/count_tokens" });
    expect(seen.body).toEqual({ model: "claude-sonnet-4-5", system: "Be brief.", tools, messages: [{ role: "user", content: "Weather in Oslo?" }] });
    expect(seen.headers["x-api-key"]).toBe(BACKEND_KEYS.value("anthropic-messages"));
  });

  it("counts tokens on the mock by its estimate", async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: KEY, maxRetries: 0 });
    const count = await client.messages.countTokens({ model: "mock-claude", system: "Be brief.", messages: [{ role: "user", content: "Weather in Oslo?" }] });
    expect(count).toEqual({ input_tokens: Math.ceil("Be brief.Weather in Oslo?".length / 4) });
  });

  it("answers 501 in Anthropic's shape, which the SDK raises, when no backend of the model can count", async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: KEY, maxRetries: 0 });
    const before = upstream.requests.length;
    const err = await client.messages.countTokens({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(501);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toEqual({ type: "error", error: { type: "overloaded_error", message: 'no backend of model "gpt-4o-mini" can count tokens' } });
    expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get("x-should-retry")).toBe("false");
    expect(upstream.requests.length).toBe(before);
  });

  it("passes an upstream count error on as the client's error", async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: KEY, maxRetries: 0 });
    upstream.queue({ error: { status: 429, message: "count rate limit", retryAfter: 4 } });
    const err = await client.messages.countTokens({ model: "claude-haiku-4-5", messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get("retry-after")).toBe("4");
  });
});
