/**
 * The shipped default pipeline speaks all four API formats on the mock, offline: the Anthropic
 * SDK (messages, streams, count_tokens), the Gemini SDK (generateContent, streams, models.list)
 * and the OpenAI SDK's Responses API, with the calls the README shows.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_KEY, startDefaultPipeline } from "../support/default-pipeline.js";

const REPLY = /^Hello from switchyard's mock provider \(backend mock-[ab]\)\.$/;

describe("default pipeline in every API format", () => {
  let gw: Awaited<ReturnType<typeof startDefaultPipeline>>;

  beforeAll(async () => {
    gw = await startDefaultPipeline();
  });
  afterAll(() => gw?.close());

  it("answers the Anthropic SDK plain and streamed, and counts tokens", async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: DEMO_KEY, maxRetries: 0 });
    const message = await client.messages.create({ model: "mock-small", max_tokens: 256, messages: [{ role: "user", content: "Hello" }] });
    expect(message.content).toEqual([{ type: "text", text: expect.stringMatching(REPLY) }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.output_tokens).toBeGreaterThan(0);

    const streamed = await client.messages.stream({ model: "mock-small", max_tokens: 256, messages: [{ role: "user", content: "Hello" }] }).finalMessage();
    expect(streamed.content).toEqual([{ type: "text", text: expect.stringMatching(REPLY) }]);

    const count = await client.messages.countTokens({ model: "mock-small", system: "Be brief.", messages: [{ role: "user", content: "Hello" }] });
    expect(count).toEqual({ input_tokens: Math.ceil("Be brief.Hello".length / 4) });
  });

  it("answers the Gemini SDK plain and streamed, and lists the models", async () => {
    const ai = new GoogleGenAI({ apiKey: DEMO_KEY, httpOptions: { baseUrl: gw.url } });
    const reply = await ai.models.generateContent({ model: "mock-small", contents: "Hello", config: { systemInstruction: "Be brief.", maxOutputTokens: 256 } });
    expect(reply.text).toMatch(REPLY);
    expect(reply.candidates?.[0]?.finishReason).toBe("STOP");
    expect(reply.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);

    let text = "";
    for await (const chunk of await ai.models.generateContentStream({ model: "mock-small", contents: "Hello" })) text += chunk.text ?? "";
    expect(text).toMatch(REPLY);

    const names: (string | undefined)[] = [];
    for await (const model of await ai.models.list()) names.push(model.name);
    expect(names).toEqual(["models/mock-small", "models/mock-large"]);
  });

  it("answers the OpenAI SDK's Responses API plain and streamed", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: DEMO_KEY, maxRetries: 0 });
    const response = await client.responses.create({ model: "mock-large", instructions: "Be brief.", input: "Hello" });
    expect(response.output_text).toMatch(REPLY);
    expect(response.status).toBe("completed");
    const streamed = await client.responses.stream({ model: "mock-large", input: "Hello" }).finalResponse();
    expect(streamed.output_text).toMatch(REPLY);
    expect(streamed.usage?.output_tokens).toBeGreaterThan(0);
  });
});
