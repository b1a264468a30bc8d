import { describe, expect, it } from "vitest";
import { GatewayError, type IrRequest } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-responses/index.js";
import { carriedView } from "../formats/carried-view.js";
import { readFixture } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; wire: Record<string, unknown>; ir: IrRequest }>>("openai-responses", "requests.json");
const info = { path: "/v1/responses", params: {}, query: {} };
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

describe("format-openai-responses requests", () => {
  it("is a format plugin keyed openai-responses with an empty config schema", () => {
    expect(plugin).toMatchObject({ kind: "format", format: "openai-responses", name: "format-openai-responses" });
    expect(plugin.configSchema).toMatchObject({ type: "object", additionalProperties: false, properties: {} });
  });

  for (const f of fixtures) {
    it(`reads the wire request into the IR: ${f.name}`, () => {
      expect(t.requestToIr(f.wire, info)).toEqual(f.ir);
    });
    it(`writes the IR back keeping everything it can carry: ${f.name}`, () => {
      const lost = t.unsupportedFields!(f.ir);
      const back = t.requestToIr(t.requestFromIr(f.ir), info);
      expect(carriedView(back, lost)).toEqual(carriedView(f.ir, lost));
    });
  }

  it("writes a stateless request: store false, reasoning items without ids but with encrypted content, encrypted reasoning asked for", () => {
    const body = t.requestFromIr(fixtures[2]!.ir);
    expect(body).toMatchObject({ store: false, include: ["reasoning.encrypted_content"], reasoning: { effort: "medium", summary: "auto" }, parallel_tool_calls: false });
    expect(body.input).toEqual([
      { role: "user", content: [{ type: "input_text", text: "Weather in Paris and Oslo, and a webcam snapshot?" }] },
      { type: "reasoning", summary: [{ type: "summary_text", text: "Two weather calls.\n\nThen the snapshot." }], encrypted_content: "gAAAAABoISQ24OyVRYbkYfukdgs" },
      { type: "function_call", call_id: "call_a1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
      { type: "function_call", call_id: "call_b2", name: "snapshot", arguments: "{}" },
      { type: "function_call_output", call_id: "call_a1", output: "18C sunny" },
      {
        type: "function_call_output",
        call_id: "call_b2",
        output: [
          { type: "input_text", text: "frame:" },
          { type: "input_image", image_url: "https://cams.example.com/oslo.jpg", detail: "auto" },
        ],
      },
      { role: "user", content: [{ type: "input_text", text: "Summarize." }] },
    ]);
  });

  it("makes tools from other formats explicitly non-strict, since Responses defaults to strict", () => {
    const body = t.requestFromIr({ model: "m", stream: false, messages: [user("x")], tools: [{ name: "f", parameters: { type: "object" } }] });
    expect(body.tools).toEqual([{ type: "function", name: "f", parameters: { type: "object" }, strict: false }]);
    expect(t.requestToIr({ model: "m", input: "x", tools: [{ type: "function", name: "f", parameters: {} }] }, info).tools).toEqual([{ name: "f", parameters: {}, strict: true }]);
  });

  it("maps thinking budgets to efforts and says nothing about reasoning that is off or at its default", () => {
    expect(t.requestFromIr({ model: "m", stream: false, messages: [user("x")], reasoning: { budgetTokens: 16000, includeThoughts: true } })).toMatchObject({
      reasoning: { effort: "high", summary: "auto" },
      include: ["reasoning.encrypted_content"],
    });
    for (const reasoning of [{ budgetTokens: 0 }, {}]) {
      const body = t.requestFromIr({ model: "m", stream: false, messages: [user("x")], reasoning });
      expect(body).not.toHaveProperty("reasoning");
      expect(body).not.toHaveProperty("include");
    }
  });

  it("lists what Responses cannot carry", () => {
    const ir: IrRequest = {
      model: "m",
      stream: false,
      stop: ["x"],
      seed: 3,
      topK: 4,
      presencePenalty: 1,
      frequencyPenalty: 1,
      n: 2,
      reasoning: { budgetTokens: 100 },
      messages: [
        { role: "system", name: "sys", content: [{ type: "text", text: "s", cacheControl: { type: "ephemeral" } }] },
        { role: "tool", content: [{ type: "tool_result", toolCallId: "1", isError: true, content: [] }] },
      ],
    };
    expect(t.unsupportedFields!(ir).sort()).toEqual(
      ["frequencyPenalty", "messages.cacheControl", "messages.name", "messages.tool_result.isError", "n", "presencePenalty", "reasoning.budgetTokens", "seed", "stop", "topK"].sort(),
    );
    expect(t.unsupportedFields!(fixtures[2]!.ir)).toEqual([]);
  });

  it("carries its own extra fields back and ignores foreign ones", () => {
    const body = t.requestFromIr(fixtures[3]!.ir);
    expect(body).toMatchObject({ tools: [{ type: "web_search_preview" }], text: { verbosity: "low" }, service_tier: "flex", include: ["web_search_call.action.sources"] });
    // Stateless by construction: a stored conversation cannot be continued from here.
    expect(body).not.toHaveProperty("previous_response_id");
    expect(body.store).toBe(false);
  });

  it("peeks model and stream flag, and passes a body through with only the model changed", () => {
    expect(t.peek({ model: "gpt-4.1", stream: true, input: "x" }, info)).toEqual({ model: "gpt-4.1", stream: true });
    const body = { model: "alias", input: "hi", stream: true };
    const frozen = structuredClone(body);
    expect(t.preparePassthrough(body, "gpt-4.1-2025-04-14", true)).toEqual({ ...frozen, model: "gpt-4.1-2025-04-14" });
    expect(body).toEqual(frozen);
    expect(t.preparePassthrough(body, "alias", true)).toBeUndefined();
  });

  const invalid: Array<[string, unknown, string]> = [
    ["a missing model", { input: "x" }, "model"],
    ["a numeric input", { model: "m", input: 5 }, "input"],
    ["an empty input", { model: "m", input: [] }, "input"],
    ["an item_reference", { model: "m", input: [{ type: "item_reference", id: "msg_1" }] }, "input[0].type"],
    ["a bad role", { model: "m", input: [{ role: "tool", content: "x" }] }, "input[0].role"],
    ["an input file with no file", { model: "m", input: [{ role: "user", content: [{ type: "input_file" }] }] }, "input[0].content[0]"],
    ["an image by file id", { model: "m", input: [{ role: "user", content: [{ type: "input_image", file_id: "f", detail: "auto" }] }] }, "input[0].content[0].image_url"],
    ["a function call without arguments", { model: "m", input: [{ type: "function_call", call_id: "c", name: "f" }] }, "input[0].arguments"],
    ["a function output without call id", { model: "m", input: [{ type: "function_call_output", output: "x" }] }, "input[0].call_id"],
    ["an unknown text format", { model: "m", input: "x", text: { format: { type: "yaml" } } }, "text.format.type"],
    ["a json_schema format without schema", { model: "m", input: "x", text: { format: { type: "json_schema", name: "n" } } }, "text.format.schema"],
    ["a non-integer max_output_tokens", { model: "m", input: "x", max_output_tokens: "many" }, "max_output_tokens"],
    ["an unknown tool_choice", { model: "m", input: "x", tool_choice: "always" }, "tool_choice"],
  ];
  for (const [what, body, param] of invalid) {
    it(`rejects ${what} with a 400 naming ${param}`, () => {
      expect(errorOf(() => t.requestToIr(body, info))).toMatchObject({ status: 400, type: "invalid_request", param });
    });
  }
});
