/**
 * provider-mock as a thinking model and as a logprobs source: its answers, plain and streamed, in
 * each format's own terms, read back by that format's translator.
 */
import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { FormatTranslator, IrStreamEvent, SseEvent, UpstreamCall } from "../../../core/index.js";
import { SseParser } from "../../../lib/wire/sse.js";
import { createTestProvider } from "../../../testkit/index.js";
import providerMock from "../../../plugins/provider-mock/index.js";
import { anthropicTranslator } from "../../../plugins/format-anthropic-messages/index.js";
import { geminiTranslator } from "../../../plugins/format-gemini/index.js";
import { responsesTranslator } from "../../../plugins/format-openai-responses/index.js";
import { openAiChatTranslator } from "../../../plugins/format-openai-chat/index.js";
import { liteFormats } from "../../support/openai-chat-lite.js";
import { RequestEnd } from "../../../core/index.js";

const THINKING = { text: "Paris in spring is mild.", signature: "sig-mock-1" };
const formats = liteFormats(anthropicTranslator, geminiTranslator, responsesTranslator, openAiChatTranslator);

function callFor(format: string, body: Record<string, unknown>, stream: boolean): UpstreamCall {
  return { format, model: "mock-1", body, stream, end: new RequestEnd(), requestId: "r1", headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000 };
}

async function readAll(body: Readable): Promise<string> {
  let text = "";
  for await (const chunk of body) text += chunk.toString();
  return text;
}

async function streamEvents(translator: FormatTranslator, body: Readable): Promise<IrStreamEvent[]> {
  const events: IrStreamEvent[] = [];
  const decoder = translator.createStreamDecoder((e) => events.push(e));
  const parser = new SseParser((e: SseEvent) => decoder.push(e));
  parser.push(await readAll(body));
  parser.end();
  decoder.end();
  return events;
}

const REQUESTS: Record<string, (stream: boolean) => Record<string, unknown>> = {
  "anthropic-messages": (stream) => ({ model: "mock-1", max_tokens: 100, messages: [{ role: "user", content: "Hi" }], stream }),
  gemini: () => ({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] }),
  "openai-responses": (stream) => ({ model: "mock-1", input: "Hi", stream }),
};

describe("provider-mock answers as a thinking model, with a signature, in every format", () => {
  const provider = createTestProvider(providerMock, { reply: "Sunny.", thinking: THINKING }, { formats });
  for (const [format, request] of Object.entries(REQUESTS)) {
    const translator = formats.get(format)!;
    it(`plain ${format}: the thinking and its signature come before the text`, async () => {
      const reply = await (await provider).send(callFor(format, request(false), false));
      const ir = translator.responseToIr(JSON.parse(await readAll(reply.body)));
      expect(ir.content.filter((p) => p.type === "thinking")).toEqual([{ type: "thinking", text: THINKING.text, signature: THINKING.signature }]);
      expect(ir.content.at(-1)).toEqual({ type: "text", text: "Sunny." });
    });
    it(`streamed ${format}: thinking deltas, the signature, then the text`, async () => {
      const reply = await (await provider).send(callFor(format, request(true), true));
      const events = await streamEvents(translator, reply.body);
      const thinking = events.flatMap((e) => (e.type === "thinking" ? [e] : []));
      expect(thinking.map((e) => e.text).join("")).toBe(THINKING.text);
      expect(thinking.flatMap((e) => (e.signature === undefined ? [] : [e.signature]))).toEqual([THINKING.signature]);
      expect(events.flatMap((e) => (e.type === "text" ? [e.text] : [])).join("")).toBe("Sunny.");
    });
  }
});

describe("provider-mock answers logprobs when asked", () => {
  const provider = createTestProvider(providerMock, { reply: "Sunny and mild.", chunks: 3 }, { formats });
  const asks: Record<string, Record<string, unknown>> = {
    "openai-chat": { model: "mock-1", messages: [{ role: "user", content: "Hi" }], logprobs: true, top_logprobs: 2 },
    gemini: { contents: [{ role: "user", parts: [{ text: "Hi" }] }], generationConfig: { responseLogprobs: true, logprobs: 2 } },
    "openai-responses": { model: "mock-1", input: "Hi", include: ["message.output_text.logprobs"], top_logprobs: 2 },
  };
  for (const [format, body] of Object.entries(asks)) {
    const translator = formats.get(format)!;
    it(`${format}: one token per piece, each with 2 alternatives, plain and streamed alike`, async () => {
      const plain = translator.responseToIr(JSON.parse(await readAll((await (await provider).send(callFor(format, body, false))).body)));
      expect(plain.logprobs?.map((t) => t.token).join("")).toBe("Sunny and mild.");
      expect(plain.logprobs?.every((t) => t.logprob < 0 && t.top?.length === 2)).toBe(true);
      const streamed = await streamEvents(translator, (await (await provider).send(callFor(format, { ...body, stream: true }, true))).body);
      expect(streamed.flatMap((e) => (e.type === "logprobs" ? e.logprobs : []))).toEqual(plain.logprobs);
    });
  }

  it("answers none when not asked", async () => {
    const plain = openAiChatTranslator.responseToIr(JSON.parse(await readAll((await (await provider).send(callFor("openai-chat", { model: "mock-1", messages: [{ role: "user", content: "Hi" }] }, false))).body)));
    expect(plain.logprobs).toBeUndefined();
  });
});
