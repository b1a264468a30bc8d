import { describe, expect, it } from "vitest";
import { GatewayError, type IrRequest } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-chat/index.js";
import { readFixture } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; wire: Record<string, unknown>; ir: IrRequest }>>("openai-chat", "requests.json");
const info = { path: "/v1/chat/completions", params: {}, query: {} };

function errorOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error("expected a GatewayError");
}

describe("format-openai-chat requests", () => {
  it("is a format plugin keyed openai-chat with an empty config schema", () => {
    expect(plugin.kind).toBe("format");
    expect(plugin.format).toBe("openai-chat");
    expect(t.format).toBe("openai-chat");
    expect(plugin.configSchema).toMatchObject({ type: "object", additionalProperties: false, properties: {} });
  });

  for (const f of fixtures) {
    it(`reads the wire request into the IR: ${f.name}`, () => {
      expect(t.requestToIr(f.wire, info)).toEqual(f.ir);
    });
    it(`writes the IR back so that reading it again gives the same IR: ${f.name}`, () => {
      const back = t.requestToIr(t.requestFromIr(f.ir), info);
      // topK has no OpenAI field; budgets become efforts: both are listed as not carried.
      const lost = t.unsupportedFields!(f.ir);
      const expected: IrRequest = structuredClone(f.ir);
      if (lost.includes("topK")) delete expected.topK;
      if (lost.includes("reasoning.budgetTokens")) delete expected.reasoning;
      if (lost.includes("messages.thinking")) {
        for (const m of expected.messages) m.content = m.content.filter((p) => p.type !== "thinking");
      }
      if (expected.stream) expected.streamUsage = true;
      // Vendor extensions are not OpenAI's own fields: only the translate step may decide to keep them.
      delete expected.extra?.repetition_penalty;
      expect(back).toEqual(expected);
    });
  }

  it("peeks model and stream flag without translating", () => {
    expect(t.peek({ model: "gpt-4o", stream: true, messages: "not checked" }, info)).toEqual({ model: "gpt-4o", stream: true });
    expect(t.peek({ model: 5 }, info)).toEqual({ model: undefined, stream: false });
    expect(t.peek("nonsense", info)).toEqual({ model: undefined, stream: false });
  });

  it("writes max_tokens for plain requests and max_completion_tokens with reasoning", () => {
    const base: IrRequest = { model: "m", stream: false, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], maxTokens: 100 };
    expect(t.requestFromIr(base)).toMatchObject({ max_tokens: 100 });
    expect(t.requestFromIr(base)).not.toHaveProperty("max_completion_tokens");
    const reasoning = t.requestFromIr({ ...base, reasoning: { effort: "low" } });
    expect(reasoning).toMatchObject({ max_completion_tokens: 100, reasoning_effort: "low" });
    expect(reasoning).not.toHaveProperty("max_tokens");
  });

  it("maps thinking budgets to the nearest effort and lists the budget as not carried", () => {
    const ir: IrRequest = { model: "m", stream: false, messages: [], reasoning: { budgetTokens: 10000 } };
    expect(t.requestFromIr(ir)).toMatchObject({ reasoning_effort: "high" });
    expect(t.requestFromIr({ ...ir, reasoning: { budgetTokens: 1024 } })).toMatchObject({ reasoning_effort: "low" });
    expect(t.requestFromIr({ ...ir, reasoning: { budgetTokens: 0 } })).not.toHaveProperty("reasoning_effort");
    expect(t.unsupportedFields!(ir)).toContain("reasoning.budgetTokens");
  });

  it("always asks a streaming backend for usage", () => {
    const body = t.requestFromIr({ model: "m", stream: true, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] });
    expect(body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("turns Anthropic-style tool results inside a user turn into tool messages ahead of the user text", () => {
    const body = t.requestFromIr({
      model: "m",
      stream: false,
      messages: [
        { role: "assistant", content: [{ type: "tool_call", id: "t1", name: "f", arguments: "{}" }] },
        {
          role: "user",
          content: [
            { type: "tool_result", toolCallId: "t1", content: [{ type: "text", text: "42" }], isError: true },
            { type: "text", text: "and now?" },
          ],
        },
      ],
    });
    expect(body.messages).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "t1", content: "42" },
      { role: "user", content: "and now?" },
    ]);
  });

  it("lists what the format cannot carry: thinking, top_k, tool-result images and errors, cache control, thought requests", () => {
    const ir: IrRequest = {
      model: "m",
      stream: false,
      topK: 5,
      reasoning: { effort: "low", includeThoughts: true },
      tools: [{ name: "f", parameters: {}, cacheControl: { type: "ephemeral" } }],
      messages: [
        { role: "system", content: [{ type: "text", text: "s", cacheControl: { type: "ephemeral" } }] },
        { role: "assistant", content: [{ type: "thinking", text: "hmm", signature: "sig" }, { type: "tool_call", id: "1", name: "f", arguments: "{}" }] },
        {
          role: "tool",
          content: [{ type: "tool_result", toolCallId: "1", isError: true, content: [{ type: "image", source: { kind: "url", url: "https://x/y.png" } }] }],
        },
      ],
    };
    expect(t.unsupportedFields!(ir).sort()).toEqual(
      [
        "messages.cacheControl",
        "messages.thinking",
        "messages.tool_result.image",
        "messages.tool_result.isError",
        "reasoning.includeThoughts",
        "tools.cacheControl",
        "topK",
      ].sort(),
    );
    expect(t.unsupportedFields!(fixtures[0]!.ir)).toEqual([]);
  });

  it("carries its own extra fields back and ignores foreign ones", () => {
    const body = t.requestFromIr({
      model: "m",
      stream: false,
      messages: [],
      extra: { logit_bias: { "50256": -100 }, service_tier: "flex", container: "anthropic-only", tools: [{ type: "custom", custom: { name: "x" } }] },
    });
    expect(body).toMatchObject({ logit_bias: { "50256": -100 }, service_tier: "flex", tools: [{ type: "custom", custom: { name: "x" } }] });
    expect(body).not.toHaveProperty("container");
  });

  it("prepares a passthrough body without touching the client's, keeping other stream options", () => {
    const body = { model: "alias", stream: true, stream_options: { include_obfuscation: false }, messages: [] };
    const frozen = structuredClone(body);
    const out = t.preparePassthrough(body, "gpt-4o-2024-08-06", true);
    expect(out).toEqual({ model: "gpt-4o-2024-08-06", stream: true, stream_options: { include_obfuscation: false, include_usage: true }, messages: [] });
    expect(body).toEqual(frozen);
    expect(t.preparePassthrough({ model: "a", messages: [] }, "b", false)).toEqual({ model: "b", messages: [] });
  });

  it("leaves a passthrough body alone (undefined: send the client's bytes) when nothing needs a change", () => {
    expect(t.preparePassthrough({ model: "gpt-4o", messages: [] }, "gpt-4o", false)).toBeUndefined();
    expect(t.preparePassthrough({ model: "gpt-4o", stream: true, stream_options: { include_usage: true }, messages: [] }, "gpt-4o", true)).toBeUndefined();
    // A stream that does not ask for usage gets it asked for: the gateway needs it for cost and records.
    expect(t.preparePassthrough({ model: "gpt-4o", stream: true, messages: [] }, "gpt-4o", true)).toMatchObject({ stream_options: { include_usage: true } });
  });

  const invalid: Array<[string, unknown, string | undefined]> = [
    ["a body that is not an object", [1, 2], "body"],
    ["a missing model", { messages: [{ role: "user", content: "x" }] }, "model"],
    ["messages that are not an array", { model: "m", messages: "hi" }, "messages"],
    ["no messages", { model: "m", messages: [] }, "messages"],
    ["an unknown role", { model: "m", messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    ["a numeric content", { model: "m", messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
    ["an unknown part type", { model: "m", messages: [{ role: "user", content: [{ type: "video" }] }] }, "messages[0].content[0].type"],
    ["audio input without a format", { model: "m", messages: [{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }] }, "messages[0].content[0].input_audio.format"],
    ["an image part without url", { model: "m", messages: [{ role: "user", content: [{ type: "image_url", image_url: {} }] }] }, "messages[0].content[0].image_url.url"],
    ["a bad image detail", { model: "m", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "u", detail: "max" } }] }] }, "messages[0].content[0].image_url.detail"],
    ["a tool message without tool_call_id", { model: "m", messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id"],
    ["a tool call without arguments", { model: "m", messages: [{ role: "assistant", tool_calls: [{ id: "1", type: "function", function: { name: "f" } }] }] }, "messages[0].tool_calls[0].function.arguments"],
    ["a legacy function message", { model: "m", messages: [{ role: "function", name: "f", content: "x" }] }, "messages[0].role"],
    ["a string temperature", { model: "m", messages: [{ role: "user", content: "x" }], temperature: "hot" }, "temperature"],
    ["a fractional max_tokens", { model: "m", messages: [{ role: "user", content: "x" }], max_tokens: 1.5 }, "max_tokens"],
    ["a zero n", { model: "m", messages: [{ role: "user", content: "x" }], n: 0 }, "n"],
    ["a stop list with a number", { model: "m", messages: [{ role: "user", content: "x" }], stop: ["a", 1] }, "stop[1]"],
    ["an unknown tool_choice string", { model: "m", messages: [{ role: "user", content: "x" }], tool_choice: "sometimes" }, "tool_choice"],
    ["a tool without a name", { model: "m", messages: [{ role: "user", content: "x" }], tools: [{ type: "function", function: {} }] }, "tools[0].function.name"],
    ["an unknown response format", { model: "m", messages: [{ role: "user", content: "x" }], response_format: { type: "yaml" } }, "response_format.type"],
    ["a json_schema format without a name", { model: "m", messages: [{ role: "user", content: "x" }], response_format: { type: "json_schema", json_schema: {} } }, "response_format.json_schema.name"],
    ["non-string metadata", { model: "m", messages: [{ role: "user", content: "x" }], metadata: { a: 1 } }, "metadata.a"],
    ["a non-boolean stream", { model: "m", messages: [{ role: "user", content: "x" }], stream: "yes" }, "stream"],
  ];
  for (const [what, body, param] of invalid) {
    it(`rejects ${what} with a 400 naming ${param}`, () => {
      const err = errorOf(() => t.requestToIr(body, info));
      expect(err.status).toBe(400);
      expect(err.type).toBe("invalid_request");
      expect(err.param).toBe(param);
      expect(err.message).toContain(param);
    });
  }
});
