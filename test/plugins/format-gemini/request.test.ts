import { describe, expect, it } from "vitest";
import { GatewayError, type IrRequest } from "../../../core/index.js";
import plugin from "../../../plugins/format-gemini/index.js";
import { carriedView } from "../formats/carried-view.js";
import { readFixture } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; wire: Record<string, unknown>; ir: IrRequest }>>("gemini", "requests.json");
const infoFor = (target: string, query: Record<string, string> = {}) => ({ path: `/v1beta/models/${target}`, params: { target }, query });
const infoOf = (ir: IrRequest) => infoFor(`${ir.model}:${ir.stream ? "streamGenerateContent" : "generateContent"}`, ir.stream ? { alt: "sse" } : {});
const user = (text: string) => ({ role: "user" as const, content: [{ type: "text" as const, text }] });

function errorOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error("expected a GatewayError");
}

describe("format-gemini requests", () => {
  it("is a format plugin keyed gemini with an empty config schema", () => {
    expect(plugin).toMatchObject({ kind: "format", format: "gemini", name: "format-gemini" });
    expect(plugin.configSchema).toMatchObject({ type: "object", additionalProperties: false, properties: {} });
  });

  for (const f of fixtures) {
    it(`reads the wire request into the IR: ${f.name}`, () => {
      expect(t.requestToIr(f.wire, infoOf(f.ir))).toEqual(f.ir);
    });
    it(`writes the IR back keeping everything it can carry: ${f.name}`, () => {
      const lost = t.unsupportedFields!(f.ir);
      const back = t.requestToIr(t.requestFromIr(f.ir), infoOf(f.ir));
      expect(carriedView(back, lost)).toEqual(carriedView(f.ir, lost));
    });
  }

  it("takes model and stream flag from the route target, not the body", () => {
    expect(t.peek({}, infoFor("gemini-2.0-flash:streamGenerateContent", { alt: "sse" }))).toEqual({ model: "gemini-2.0-flash", stream: true });
    expect(t.peek({ model: "ignored" }, infoFor("gemini-2.0-flash:generateContent"))).toEqual({ model: "gemini-2.0-flash", stream: false });
    expect(t.peek({}, infoFor("models/gemini-pro:generateContent"))).toEqual({ model: "gemini-pro", stream: false });
  });

  it("refuses in peek (which passthrough requests also go through) a path with no model or another method", () => {
    expect(() => t.peek({}, { path: "/", params: {}, query: {} })).toThrow(expect.objectContaining({ status: 400, param: "target" }));
    for (const target of ["gemini-2.0-flash:countTokens", "gemini-2.0-flash:embedContent", "gemini-2.0-flash", "models/gemini-2.0-flash"]) {
      expect(() => t.peek({}, infoFor(target)), target).toThrow(expect.objectContaining({ status: 404, code: "unsupported_method" }));
    }
  });

  it("refuses streamGenerateContent without alt=sse, and methods it does not serve", () => {
    const body = { contents: [{ role: "user", parts: [{ text: "hi" }] }] };
    expect(errorOf(() => t.requestToIr(body, infoFor("gemini-2.0-flash:streamGenerateContent")))).toMatchObject({ status: 400, param: "alt" });
    expect(errorOf(() => t.requestToIr(body, infoFor("gemini-2.0-flash:countTokens")))).toMatchObject({ status: 404, type: "not_found", param: "target" });
    expect(errorOf(() => t.requestToIr(body, infoFor(":generateContent")))).toMatchObject({ status: 400, param: "target" });
  });

  it("writes a body without model or stream flag, with JSON Schema parameters and the signature on the call it belongs to", () => {
    const body = t.requestFromIr(fixtures[2]!.ir);
    expect(body).not.toHaveProperty("model");
    expect(body).not.toHaveProperty("stream");
    expect(body.contents).toEqual([
      { role: "user", parts: [{ text: "Weather in Paris and Oslo?" }] },
      {
        role: "model",
        parts: [
          { text: "Two lookups needed.", thought: true },
          { functionCall: { id: "call_1_1", name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "CiQBVKhc7qR3sig" },
          { functionCall: { id: "call_1_2", name: "get_weather", args: { city: "Oslo" } } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { id: "call_1_1", name: "get_weather", response: { result: "18C sunny" } } },
          { functionResponse: { id: "call_1_2", name: "get_weather", response: { temp: 4, sky: "snow" } } },
          { text: "Which is warmer?" },
        ],
      },
    ]);
    expect(body.tools).toEqual([{ functionDeclarations: [{ name: "get_weather", description: "Current weather for a city", parametersJsonSchema: fixtures[2]!.ir.tools![0]!.parameters }] }]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } });
  });

  it("writes tool results from other formats: names found from the calls, errors as {error}", () => {
    const body = t.requestFromIr({
      model: "m",
      stream: false,
      messages: [
        user("go"),
        { role: "assistant", content: [{ type: "tool_call", id: "toolu_1", name: "lookup", arguments: "{\"q\":\"x\"}" }] },
        { role: "tool", content: [{ type: "tool_result", toolCallId: "toolu_1", isError: true, content: [{ type: "text", text: "timeout" }] }] },
      ],
    });
    expect((body.contents as unknown[])[2]).toEqual({ role: "user", parts: [{ functionResponse: { id: "toolu_1", name: "lookup", response: { error: "timeout" } } }] });
  });

  it("maps reasoning to a thinking config: budgets as given, efforts as budgets, -1 for dynamic", () => {
    const config = (reasoning: IrRequest["reasoning"]) => (t.requestFromIr({ model: "m", stream: false, messages: [user("x")], reasoning }).generationConfig as Record<string, unknown>).thinkingConfig;
    expect(config({ budgetTokens: 0 })).toEqual({ thinkingBudget: 0 });
    expect(config({ budgetTokens: 2000, includeThoughts: true })).toEqual({ thinkingBudget: 2000, includeThoughts: true });
    expect(config({ effort: "high" })).toEqual({ thinkingBudget: 24576 });
    expect(config({})).toEqual({ thinkingBudget: -1 });
  });

  it("lists what Gemini cannot carry", () => {
    const ir: IrRequest = {
      model: "m",
      stream: false,
      user: "u",
      metadata: { a: "b" },
      parallelToolCalls: false,
      reasoning: { effort: "low" },
      tools: [{ name: "f", parameters: {}, strict: true, cacheControl: { type: "ephemeral" } }],
      messages: [
        { role: "user", name: "ana", content: [{ type: "image", source: { kind: "url", url: "u.png" }, detail: "high", cacheControl: { type: "ephemeral" } }] },
        { role: "assistant", content: [{ type: "thinking", text: "", redactedData: "xx" }, { type: "tool_call", id: "1", name: "f", arguments: "{}" }] },
        { role: "tool", content: [{ type: "tool_result", toolCallId: "1", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }, { type: "image", source: { kind: "url", url: "v" } }] }] },
      ],
    };
    expect(t.unsupportedFields!(ir).sort()).toEqual(
      [
        "messages.cacheControl",
        "messages.image.detail",
        "messages.name",
        "messages.thinking",
        "messages.tool_result.image",
        "messages.tool_result.text",
        "metadata",
        "parallelToolCalls",
        "reasoning.effort",
        "tools.cacheControl",
        "tools.strict",
        "user",
      ].sort(),
    );
    expect(t.unsupportedFields!(fixtures[0]!.ir)).toEqual([]);
  });

  it("carries its own extra fields back", () => {
    const body = t.requestFromIr(fixtures[3]!.ir);
    expect(body).toMatchObject({
      tools: [{ googleSearch: {} }],
      safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ONLY_HIGH" }],
      cachedContent: "cachedContents/abc123",
      generationConfig: { responseModalities: ["TEXT"], responseMimeType: "application/json", thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } },
    });
  });

  it("passes a body through untouched (the model is in the URL)", () => {
    const body = { contents: [{ role: "user", parts: [{ text: "x" }] }] };
    expect(t.preparePassthrough(body, "gemini-2.5-pro", true)).toBeUndefined();
  });

  const target = "gemini-2.0-flash:generateContent";
  const invalid: Array<[string, unknown, string]> = [
    ["a body that is not an object", "hi", "body"],
    ["missing contents", {}, "contents"],
    ["empty contents", { contents: [] }, "contents"],
    ["a bad role", { contents: [{ role: "system", parts: [{ text: "x" }] }] }, "contents[0].role"],
    ["parts that are not an array", { contents: [{ role: "user", parts: "x" }] }, "contents[0].parts"],
    ["an inline part without data", { contents: [{ role: "user", parts: [{ inlineData: { mimeType: "audio/wav" } }] }] }, "contents[0].parts[0].inlineData"],
    ["executable code", { contents: [{ role: "model", parts: [{ executableCode: { code: "print(1)" } }] }] }, "contents[0].parts[0]"],
    ["a function response without name", { contents: [{ role: "user", parts: [{ functionResponse: { response: {} } }] }] }, "contents[0].parts[0].functionResponse.name"],
    ["a function call with array args", { contents: [{ role: "model", parts: [{ functionCall: { name: "f", args: [1] } }] }] }, "contents[0].parts[0].functionCall.args"],
    ["a bad calling mode", { contents: [{ parts: [{ text: "x" }] }], toolConfig: { functionCallingConfig: { mode: "SOMETIMES" } } }, "toolConfig.functionCallingConfig.mode"],
    ["a string temperature", { contents: [{ parts: [{ text: "x" }] }], generationConfig: { temperature: "hot" } }, "generationConfig.temperature"],
    ["a snake_case bad value", { contents: [{ parts: [{ text: "x" }] }], generation_config: { max_output_tokens: 0 } }, "generationConfig.maxOutputTokens"],
    ["a system instruction part without text", { contents: [{ parts: [{ text: "x" }] }], systemInstruction: { parts: [{}] } }, "systemInstruction.parts[0].text"],
  ];
  for (const [what, body, param] of invalid) {
    it(`rejects ${what} with a 400 naming ${param}`, () => {
      expect(errorOf(() => t.requestToIr(body, infoFor(target)))).toMatchObject({ status: 400, type: "invalid_request", param });
    });
  }
});
