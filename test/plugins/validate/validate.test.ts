import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/index.js";
import { createTestExchange, createTestStep } from "../../../testkit/index.js";
import validate from "../../../plugins/validate/index.js";
import { paramOf } from "../../../plugins/validate/wire-schema.js";

const user = (content: unknown = "hi") => ({ role: "user", content });
const base = () => ({ model: "gpt-4o", messages: [user()] as unknown[] });
const weather = { type: "function", function: { name: "get_weather", parameters: { type: "object" } } };
const callTurn = [
  user("weather in Paris?"),
  { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
];

async function run(body: Record<string, unknown>, config: Record<string, unknown> = {}, route: Partial<{ format: string; endpoint: "generate" | "models" }> = {}) {
  const { hooks } = await createTestStep(validate, config);
  const ex = createTestExchange({ body, route: { method: "POST", path: "/v1/chat/completions", format: "openai-chat", endpoint: "generate", ...route } });
  return (await hooks.validate.promise(ex)) as GatewayError | undefined;
}

describe("validate: openai-chat accepts", () => {
  it.each<[string, Record<string, unknown>]>([
    ["a minimal request", base()],
    [
      "every documented field with valid values",
      {
        ...base(),
        messages: [
          { role: "system", content: "be brief" },
          { role: "developer", content: [{ type: "text", text: "json only" }] },
          user([
            { type: "text", text: "what is this?" },
            { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "low" } },
            { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
            { type: "file", file: { file_id: "file-1" } },
          ]),
          { role: "assistant", content: [{ type: "text", text: "a cat" }, { type: "refusal", refusal: "no" }], name: "bot" },
          ...callTurn,
          { role: "tool", tool_call_id: "call_1", content: "sunny" },
        ],
        tools: [weather, { type: "custom", custom: { name: "grammar_tool" } }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
        response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } },
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0,
        top_p: 1,
        max_tokens: 100,
        max_completion_tokens: 200,
        stop: ["\n\n", "END"],
        seed: 42,
        n: 1,
        user: "u-1",
        metadata: { team: "search" },
        reasoning_effort: "low",
        presence_penalty: -2,
        frequency_penalty: 2,
        logit_bias: { "50256": -100 },
        logprobs: true,
        top_logprobs: 5,
        parallel_tool_calls: false,
      },
    ],
    ["optional fields set to null, as OpenAI allows", { ...base(), temperature: null, max_tokens: null, stop: null, stream_options: null, seed: null }],
    ["unknown extra fields (new API fields must not break clients)", { ...base(), service_tier: "flex", store: true, prediction: { type: "content", content: "x" } }],
    ["tool_choice auto or none without tools", { ...base(), tool_choice: "none" }],
    ["an assistant message with only tool_calls", { ...base(), messages: [...callTurn, { role: "tool", tool_call_id: "call_1", content: "ok" }] }],
    ["stop as a single string", { ...base(), stop: "END" }],
    ["temperature at its bounds", { ...base(), temperature: 2, top_p: 0 }],
  ])("%s", async (_name, body) => {
    expect(await run(body)).toBeUndefined();
  });
});

describe("validate: openai-chat rejects with a 400 naming the field", () => {
  it.each<[string, Record<string, unknown>, string, string]>([
    ["a missing model", { messages: [user()] }, "model", "model is required"],
    ["an empty model", { model: "", messages: [user()] }, "model", "model must not be empty"],
    ["missing messages", { model: "m" }, "messages", "messages is required"],
    ["empty messages", { model: "m", messages: [] }, "messages", "messages must not be empty"],
    ["messages that are not an array", { model: "m", messages: "hi" }, "messages", "messages must be an array"],
    ["an unknown role", { ...base(), messages: [user(), user(), { role: "bot", content: "x" }] }, "messages[2].role", 'messages[2].role must be one of "system", "developer", "user", "assistant", "tool" (got "bot")'],
    ["a missing role", { ...base(), messages: [{ content: "x" }] }, "messages[0].role", "messages[0].role is required"],
    ["a role that is not a string", { ...base(), messages: [{ role: 1, content: "x" }] }, "messages[0].role", "messages[0].role must be a string"],
    ["content of the wrong type", { ...base(), messages: [user(5)] }, "messages[0].content", "messages[0].content must be a string or an array (got 5)"],
    ["a user message without content", { ...base(), messages: [{ role: "user" }] }, "messages[0].content", "messages[0].content is required"],
    ["a text part without text", { ...base(), messages: [user([{ type: "text" }])] }, "messages[0].content[0].text", "messages[0].content[0].text is required"],
    ["an unknown part type", { ...base(), messages: [user([{ type: "video", url: "x" }])] }, "messages[0].content[0].type", 'must be one of "text", "image_url", "input_audio", "file" (got "video")'],
    ["an image part without url", { ...base(), messages: [user([{ type: "image_url", image_url: {} }])] }, "messages[0].content[0].image_url.url", "is required"],
    ["an image part in a system message", { ...base(), messages: [{ role: "system", content: [{ type: "image_url", image_url: { url: "x" } }] }] }, "messages[0].content[0].type", 'must be one of "text" (got "image_url")'],
    ["a tool message without tool_call_id", { ...base(), messages: [...callTurn, { role: "tool", content: "x" }] }, "messages[2].tool_call_id", "messages[2].tool_call_id is required"],
    ["a tool message answering no preceding call", { ...base(), messages: [...callTurn, { role: "tool", tool_call_id: "call_9", content: "x" }] }, "messages[2].tool_call_id", "does not answer a tool call"],
    ["a tool message after a user message", { ...base(), messages: [...callTurn, user(), { role: "tool", tool_call_id: "call_1", content: "x" }] }, "messages[3].tool_call_id", "does not answer a tool call"],
    ["an assistant message with neither content nor tool_calls", { ...base(), messages: [user(), { role: "assistant" }, user()] }, "messages[1].content", "without content or tool_calls"],
    ["a tool call without id", { ...base(), messages: [user(), { role: "assistant", tool_calls: [{ type: "function", function: { name: "f", arguments: "{}" } }] }] }, "messages[1].tool_calls[0].id", "is required"],
    ["temperature above 2", { ...base(), temperature: 2.5 }, "temperature", "temperature must be between 0 and 2 (got 2.5)"],
    ["temperature below 0", { ...base(), temperature: -0.1 }, "temperature", "temperature must be between 0 and 2 (got -0.1)"],
    ["temperature as a string", { ...base(), temperature: "0.5" }, "temperature", 'temperature must be a number (got "0.5")'],
    ["top_p above 1", { ...base(), top_p: 1.5 }, "top_p", "top_p must be between 0 and 1 (got 1.5)"],
    ["max_tokens of 0", { ...base(), max_tokens: 0 }, "max_tokens", "max_tokens must be a positive integer (got 0)"],
    ["a fractional max_tokens", { ...base(), max_tokens: 10.5 }, "max_tokens", "max_tokens must be an integer (got 10.5)"],
    ["a negative max_completion_tokens", { ...base(), max_completion_tokens: -5 }, "max_completion_tokens", "max_completion_tokens must be a positive integer (got -5)"],
    ["n above the configured maximum", { ...base(), n: 2 }, "n", "n must be at most 1 on this gateway (got 2)"],
    ["n of 0", { ...base(), n: 0 }, "n", "n must be a positive integer (got 0)"],
    ["more than 4 stop sequences", { ...base(), stop: ["a", "b", "c", "d", "e"] }, "stop", "stop must have at most 4 items"],
    ["a stop sequence that is not a string", { ...base(), stop: ["a", 1] }, "stop[1]", "stop[1] must be a string (got 1)"],
    ["an unknown reasoning_effort", { ...base(), reasoning_effort: "max" }, "reasoning_effort", 'reasoning_effort must be one of "none", "minimal", "low", "medium", "high", "xhigh" (got "max")'],
    ["a fractional seed", { ...base(), seed: 1.5 }, "seed", "seed must be an integer"],
    ["metadata values that are not strings", { ...base(), metadata: { tier: 3 } }, "metadata.tier", "metadata.tier must be a string (got 3)"],
    ["stream that is not a boolean", { ...base(), stream: "yes" }, "stream", "stream must be a boolean"],
    ["stream_options without stream", { ...base(), stream_options: { include_usage: true } }, "stream_options", "only allowed when stream is true"],
    ["an unknown tool_choice string", { ...base(), tools: [weather], tool_choice: "always" }, "tool_choice", 'tool_choice must be one of "none", "auto", "required" (got "always")'],
    ["tool_choice required without tools", { ...base(), tool_choice: "required" }, "tool_choice", "tool_choice requires tools"],
    ["tool_choice naming a tool not in tools", { ...base(), tools: [weather], tool_choice: { type: "function", function: { name: "get_time" } } }, "tool_choice.function.name", 'tool_choice names the tool "get_time", which is not in tools'],
    ["a tool without a function name", { ...base(), tools: [{ type: "function", function: {} }] }, "tools[0].function.name", "tools[0].function.name is required"],
    ["a tool name with spaces", { ...base(), tools: [{ type: "function", function: { name: "get weather" } }] }, "tools[0].function.name", "must be 1 to 64 letters, digits, underscores or dashes"],
    ["an unknown tool type", { ...base(), tools: [{ type: "retrieval" }] }, "tools[0].type", 'must be one of "function", "custom"'],
    ["a repeated tool name", { ...base(), tools: [weather, weather] }, "tools[1].function.name", 'repeats the tool name "get_weather"'],
    ["an unknown response_format type", { ...base(), response_format: { type: "yaml" } }, "response_format.type", 'must be one of "text", "json_object", "json_schema"'],
    ["a json_schema response_format without name", { ...base(), response_format: { type: "json_schema", json_schema: { schema: {} } } }, "response_format.json_schema.name", "is required"],
  ])("%s", async (_name, body, param, message) => {
    const err = await run(body);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 400, type: "invalid_request", param, source: "validate" });
    expect(err!.message).toContain(message);
  });

  it("gives missing fields the missing_required_parameter code and wrong types invalid_type", async () => {
    expect(await run({ messages: [user()] })).toMatchObject({ code: "missing_required_parameter" });
    expect(await run({ ...base(), temperature: "hot" })).toMatchObject({ code: "invalid_type" });
    expect(await run({ ...base(), temperature: 9 })).toMatchObject({ code: "invalid_value" });
  });

  it("does not echo long text back in messages", async () => {
    const secretish = "x".repeat(500);
    const err = await run({ ...base(), messages: [{ role: secretish, content: "x" }] });
    expect(err!.param).toBe("messages[0].role");
    expect(err!.message).not.toContain(secretish);
  });
});

describe("validate: config and formats", () => {
  it("allows n up to the configured maxN", async () => {
    expect(await run({ ...base(), n: 3 }, { maxN: 4 })).toBeUndefined();
    expect(await run({ ...base(), n: 5 }, { maxN: 4 })).toMatchObject({ param: "n", message: "n must be at most 4 on this gateway (got 5)" });
  });

  it("lets formats it has no rules for through unchecked by default", async () => {
    expect(await run({ nonsense: true }, {}, { format: "anthropic-messages" })).toBeUndefined();
  });

  it("refuses formats it has no rules for when requireKnownFormat is true", async () => {
    const err = await run({ nonsense: true }, { requireKnownFormat: true }, { format: "anthropic-messages" });
    expect(err).toMatchObject({ status: 400, type: "invalid_request", code: "unsupported_format" });
    expect(await run(base(), { requireKnownFormat: true })).toBeUndefined();
  });

  it("skips model-listing routes", async () => {
    expect(await run({}, { requireKnownFormat: true }, { endpoint: "models" })).toBeUndefined();
  });

  it("does not change the body it checks", async () => {
    const body = { ...base(), temperature: 1, tools: [weather] };
    const before = structuredClone(body);
    await run(body);
    expect(body).toEqual(before);
  });

  it("rejects unknown config", async () => {
    await expect(createTestStep(validate, { maxN: 0 })).rejects.toThrow("/maxN");
    await expect(createTestStep(validate, { strict: true })).rejects.toThrow('unknown property "strict"');
  });
});

describe("paramOf", () => {
  it("writes JSON pointers the way clients name fields", () => {
    expect(paramOf("")).toBe("");
    expect(paramOf("/messages/2/content/0/text")).toBe("messages[2].content[0].text");
    expect(paramOf("/metadata/a~1b")).toBe("metadata.a/b");
  });
});
