import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/contract/errors.js";
import { configFor, createTestExchange, createTestStep } from "../../../testkit/index.js";
import guardPii from "../../../plugins/guard-pii/index.js";

const EMAIL = "maria.gonzalez@example.com";
const CARD = "4111 1111 1111 1111";
const KEY = "sk-proj-Zx8Kq2LmN4pR7sT1vW3yA5bC9dE6fG0hJ";

async function guard(config: unknown = {}) {
  const { hooks } = await createTestStep(guardPii, config);
  return (body: Record<string, unknown>) => {
    const exchange = createTestExchange({ body });
    return hooks.validate.promise(exchange).then((reply) => ({ reply, exchange }));
  };
}

describe("guard-pii redact", () => {
  it("replaces values in OpenAI chat messages, string and part content alike, without touching the original", async () => {
    const check = await guard();
    const body = {
      model: "gpt-4o",
      messages: [
        { role: "system", content: `Escalate to ${EMAIL}.` },
        { role: "user", content: [{ type: "text", text: `Charge ${CARD} please` }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==" } }] },
      ],
    };
    const original = structuredClone(body);
    const { reply, exchange } = await check(body);
    expect(reply).toBeUndefined();
    const messages = exchange.body.messages as { content: unknown }[];
    expect(messages[0]!.content).toBe("Escalate to [REDACTED:EMAIL].");
    expect(messages[1]!.content).toEqual([{ type: "text", text: "Charge [REDACTED:CARD] please" }, original.messages[1]!.content[1]]);
    expect(exchange.body.model).toBe("gpt-4o");
    expect(body).toEqual(original);
    expect(exchange.notes).toEqual(["guard-pii: redacted email=1 card=1"]);
  });

  it("walks Anthropic system blocks, tool results and tool inputs", async () => {
    const check = await guard();
    const { exchange } = await check({
      model: "claude",
      system: [{ type: "text", text: `Key: ${KEY}` }],
      messages: [
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "lookup", input: { email: EMAIL } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01A09q90qw90lq917835lq9", content: "SSN 536-22-1234" }] },
      ],
    });
    const text = JSON.stringify(exchange.body);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain("536-22-1234");
    expect(text).toContain("[REDACTED:SECRET]");
    expect(text).toContain("[REDACTED:NATIONAL_ID]");
    expect(text).toContain("toolu_01A09q90qw90lq917835lq9");
  });

  it("walks Gemini contents and systemInstruction, and Responses input", async () => {
    const check = await guard();
    const gemini = await check({
      contents: [{ role: "user", parts: [{ text: `IBAN DE89 3704 0044 0532 0130 00` }, { inlineData: { mimeType: "image/png", data: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVm" } }] }],
      systemInstruction: { parts: [{ text: "call +44 20 7946 0958" }] },
    });
    expect(JSON.stringify(gemini.exchange.body)).toContain("IBAN [REDACTED:IBAN]");
    expect(JSON.stringify(gemini.exchange.body)).toContain("call [REDACTED:PHONE]");
    expect(JSON.stringify(gemini.exchange.body)).toContain("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVm");
    const responses = await check({ model: "gpt-4o", input: `mail ${EMAIL}`, instructions: "be brief" });
    expect(responses.exchange.body.input).toBe("mail [REDACTED:EMAIL]");
  });

  it("redacts OpenAI tool call arguments, which are JSON text", async () => {
    const check = await guard();
    const { exchange } = await check({
      messages: [{ role: "assistant", content: null, tool_calls: [{ id: "call_abc", type: "function", function: { name: "pay", arguments: JSON.stringify({ card: CARD }) } }] }],
    });
    const args = (exchange.body.messages as { tool_calls: { function: { arguments: string } }[] }[])[0]!.tool_calls[0]!.function.arguments;
    expect(JSON.parse(args)).toEqual({ card: "[REDACTED:CARD]" });
  });

  it("leaves a clean request as it was, with no note", async () => {
    const check = await guard();
    const body = { messages: [{ role: "user", content: "What is the capital of France?" }] };
    const { exchange } = await check(body);
    expect(exchange.body).toBe(body);
    expect(exchange.notes).toEqual([]);
  });

  it("looks only for the configured kinds and fields", async () => {
    const check = await guard({ kinds: ["card"], fields: ["messages"] });
    const { exchange } = await check({ messages: [{ role: "user", content: `${EMAIL} ${CARD}` }], prompt: CARD });
    expect((exchange.body.messages as { content: string }[])[0]!.content).toBe(`${EMAIL} [REDACTED:CARD]`);
    expect(exchange.body.prompt).toBe(CARD);
  });
});

describe("guard-pii block and tag", () => {
  it("block answers 400 invalid_request naming the kinds, never the values", async () => {
    const check = await guard({ mode: "block" });
    const { reply, exchange } = await check({ messages: [{ role: "user", content: `${EMAIL} and ${KEY}` }] });
    expect(reply).toBeInstanceOf(GatewayError);
    expect(reply).toMatchObject({ status: 400, type: "invalid_request", code: "pii_detected", source: "guard-pii" });
    const error = reply as GatewayError;
    expect(error.message).toMatch(/secret, email/);
    for (const text of [error.message, ...exchange.notes]) {
      expect(text).not.toContain(EMAIL);
      expect(text).not.toContain(KEY);
    }
    expect(exchange.notes).toEqual(["guard-pii: blocked secret=1 email=1"]);
  });

  it("tag changes nothing and notes the counts on the record", async () => {
    const check = await guard({ mode: "tag" });
    const body = { messages: [{ role: "user", content: `${EMAIL}, ${EMAIL}` }] };
    const { reply, exchange } = await check(body);
    expect(reply).toBeUndefined();
    expect(exchange.body).toBe(body);
    expect(exchange.notes).toEqual(["guard-pii: found email=2"]);
  });

  it("rejects unknown modes and kinds at load", () => {
    expect(() => configFor(guardPii, { mode: "mask" })).toThrow(/mode/);
    expect(() => configFor(guardPii, { kinds: ["passport"] })).toThrow(/kinds/);
  });
});
