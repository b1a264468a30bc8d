import { describe, expect, it } from "vitest";
import { GatewayError, type FormatRegistry, type FormatTranslator, type Translation } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import translate from "../../../plugins/translate/index.js";
import openaiChat from "../../../plugins/format-openai-chat/index.js";
import anthropic from "../../../plugins/format-anthropic-messages/index.js";
import gemini from "../../../plugins/format-gemini/index.js";

const formats: FormatRegistry = {
  get: (f) => ({ "openai-chat": openaiChat.translator, "anthropic-messages": anthropic.translator, gemini: gemini.translator })[f] as FormatTranslator | undefined,
  list: () => ["openai-chat", "anthropic-messages", "gemini"],
};

const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: "fast",
  messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }],
  max_tokens: 100,
  ...extra,
});

async function translationFor(body: Record<string, unknown>, backendFormat: string, policy?: "strict" | "drop") {
  const { hooks } = await createTestStep(translate, policy ? { policy } : {}, { formats });
  const x = createTestExchange({ body, format: openaiChat.translator });
  const attempt = { backend: createTestBackend("claude"), model: "claude-haiku-4-5" };
  return { x, translation: hooks.translate.call(x, attempt, backendFormat) as Translation };
}

describe("translate", () => {
  it("writes the request in the backend's format, with the backend's model name", async () => {
    const { translation } = await translationFor(chatBody(), "anthropic-messages");
    expect(translation.body).toMatchObject({ model: "claude-haiku-4-5", system: "Be brief.", max_tokens: 100, messages: [{ role: "user" }] });
  });

  it("turns the backend's reply into the client's format and reports its usage", async () => {
    const { translation } = await translationFor(chatBody(), "anthropic-messages");
    const { body, usage } = translation.response({
      id: "msg_1", type: "message", role: "assistant", model: "claude-haiku-4-5", content: [{ type: "text", text: "Hello!" }],
      stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 5 },
    });
    expect(body).toMatchObject({ object: "chat.completion", choices: [{ message: { role: "assistant", content: "Hello!" }, finish_reason: "stop" }] });
    expect(usage).toMatchObject({ inputTokens: 15, outputTokens: 3, cachedReadTokens: 5 });
  });

  it("translates a stream event by event and keeps its usage", async () => {
    const { translation } = await translationFor(chatBody({ stream: true }), "anthropic-messages");
    let out = "";
    const stream = translation.stream((text) => (out += text), { backend: "b", model: "m", latencyMs: 0 });
    const ev = (event: string, data: object) => stream.push({ event, data: JSON.stringify({ type: event, ...data }) });
    ev("message_start", { message: { id: "msg_1", type: "message", role: "assistant", model: "claude-haiku-4-5", content: [], usage: { input_tokens: 7, output_tokens: 0 } } });
    ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
    ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hel" } });
    ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "lo" } });
    ev("content_block_stop", { index: 0 });
    ev("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } });
    ev("message_stop", {});
    stream.end();
    expect(out).toContain('"content":"Hel"');
    expect(out).toContain('"finish_reason":"stop"');
    expect(out.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(stream.usage).toMatchObject({ inputTokens: 7, outputTokens: 2 });
  });

  it("drops a field the backend cannot carry by default, and notes it on the record", async () => {
    const { x, translation } = await translationFor(chatBody({ logit_bias: { "50256": -100 } }), "anthropic-messages");
    expect(JSON.stringify(translation.body)).not.toContain("logit_bias");
    expect(x.notes.join(" ")).toContain("logit_bias");
  });

  it("rejects a field the backend cannot carry under the strict policy, naming it", async () => {
    const err = await translationFor(chatBody({ logit_bias: { "50256": -100 } }), "anthropic-messages", "strict").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 400, code: "unsupported_field", param: "logit_bias" });
  });

  it("rejects an IR field the target only approximates under the strict policy", async () => {
    const err = await translationFor(chatBody({ seed: 7 }), "anthropic-messages", "strict").catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: "unsupported_field", param: "seed" });
  });

  it("builds the IR once per request, whatever the number of attempts", async () => {
    const { hooks } = await createTestStep(translate, {}, { formats });
    const x = createTestExchange({ body: chatBody(), format: openaiChat.translator });
    hooks.translate.call(x, { backend: createTestBackend("a"), model: "claude-a" }, "anthropic-messages");
    const ir = x.ir;
    hooks.translate.call(x, { backend: createTestBackend("b"), model: "gemini-b" }, "gemini");
    expect(x.ir).toBe(ir);
    expect(ir!.model).toBe("fast");
  });

  it("leaves formats it does not know to a later step", async () => {
    const { hooks } = await createTestStep(translate, {}, { formats });
    const x = createTestExchange({ body: chatBody(), format: openaiChat.translator });
    expect(hooks.translate.call(x, { backend: createTestBackend("a"), model: "m" }, "no-such-format")).toBeUndefined();
  });
});
