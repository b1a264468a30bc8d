import { describe, expect, it } from "vitest";
import { GatewayError, type IrRequest } from "../../../core/index.js";
import plugin from "../../../plugins/format-anthropic-messages/index.js";
import { carriedView } from "../formats/carried-view.js";
import { readFixture } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; wire: Record<string, unknown>; ir: IrRequest }>>("anthropic-messages", "requests.json");
const info = { path: "/v1/messages", params: {}, query: {} };
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

describe("format-anthropic-messages requests", () => {
  it("is a format plugin keyed anthropic-messages with an empty config schema", () => {
    expect(plugin).toMatchObject({ kind: "format", format: "anthropic-messages", name: "format-anthropic-messages" });
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

  it("writes the thinking turn back exactly as Anthropic needs it: signed and redacted blocks, tool results first", () => {
    const body = t.requestFromIr(fixtures[2]!.ir) as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
    expect(body.messages[1]!.content.slice(0, 2)).toEqual([
      { type: "thinking", thinking: "I need both tools.", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxyk7w=" },
      { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP" },
    ]);
    expect(body.messages[2]!.content.map((b) => b.type)).toEqual(["tool_result", "tool_result", "text"]);
    expect(body.messages).toHaveLength(3);
  });

  it("adds cache reads and writes nowhere in requests but keeps cache_control on system, tools and blocks", () => {
    const body = t.requestFromIr(fixtures[1]!.ir);
    expect(body.system).toEqual([
      { type: "text", text: "Long reference document...", cache_control: { type: "ephemeral", ttl: "1h" } },
      { type: "text", text: "Answer briefly." },
    ]);
  });

  it("joins system messages from anywhere into the top-level system prompt", () => {
    const body = t.requestFromIr({ model: "m", stream: false, messages: [{ role: "system", content: [{ type: "text", text: "A" }] }, user("hi"), { role: "system", content: [{ type: "text", text: "B" }] }] });
    expect(body.system).toEqual([
      { type: "text", text: "A" },
      { type: "text", text: "B" },
    ]);
    expect(body.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }]);
  });

  it("defaults max_tokens to 4096 and keeps it above the thinking budget", () => {
    expect(t.requestFromIr({ model: "m", stream: false, messages: [user("x")] })).toMatchObject({ max_tokens: 4096 });
    expect(t.requestFromIr({ model: "m", stream: false, messages: [user("x")], reasoning: { budgetTokens: 8000 } })).toMatchObject({
      max_tokens: 12096,
      thinking: { type: "enabled", budget_tokens: 8000 },
    });
    const clamped = t.requestFromIr({ model: "m", stream: false, messages: [user("x")], maxTokens: 2000, reasoning: { budgetTokens: 8000 } });
    expect(clamped).toMatchObject({ max_tokens: 2000, thinking: { type: "enabled", budget_tokens: 1999 } });
    expect(t.unsupportedFields!({ model: "m", stream: false, messages: [], maxTokens: 2000, reasoning: { budgetTokens: 8000 } })).toContain("reasoning.budgetTokens");
  });

  it("maps reasoning effort to a thinking budget and a zero budget to disabled thinking", () => {
    expect(t.requestFromIr({ model: "m", stream: false, messages: [user("x")], reasoning: { effort: "low" } })).toMatchObject({ thinking: { type: "enabled", budget_tokens: 2048 } });
    expect(t.requestFromIr({ model: "m", stream: false, messages: [user("x")], reasoning: { budgetTokens: 0 } })).toMatchObject({ thinking: { type: "disabled" } });
  });

  it("maps tool choice and parallel tool use both ways", () => {
    const tools = [{ name: "f", parameters: { type: "object" } }];
    const base = { model: "m", stream: false, messages: [user("x")], tools };
    expect(t.requestFromIr({ ...base, toolChoice: { type: "required" }, parallelToolCalls: false }).tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
    expect(t.requestFromIr({ ...base, toolChoice: { type: "tool", name: "f" } }).tool_choice).toEqual({ type: "tool", name: "f" });
    expect(t.requestFromIr({ ...base, parallelToolCalls: false }).tool_choice).toEqual({ type: "auto", disable_parallel_tool_use: true });
  });

  it("lists what Anthropic cannot carry", () => {
    const ir: IrRequest = {
      model: "m",
      stream: false,
      seed: 1,
      presencePenalty: 0.5,
      frequencyPenalty: 0.5,
      n: 2,
      metadata: { a: "b" },
      responseFormat: { type: "json_object" },
      messages: [
        { role: "user", name: "ana", content: [{ type: "image", source: { kind: "url", url: "u" }, detail: "low" }] },
        { role: "assistant", content: [{ type: "thinking", text: "unsigned" }] },
      ],
    };
    expect(t.unsupportedFields!(ir).sort()).toEqual(
      ["frequencyPenalty", "messages.image.detail", "messages.name", "messages.thinking", "metadata", "n", "presencePenalty", "responseFormat", "seed"].sort(),
    );
    expect(t.unsupportedFields!(fixtures[0]!.ir)).toEqual([]);
  });

  it("carries its own extra fields and server tools back, and ignores foreign ones", () => {
    const body = t.requestFromIr(fixtures[3]!.ir);
    expect(body).toMatchObject({
      service_tier: "standard_only",
      container: "container_011CPR5CNjB747bTd36fQLFk",
      tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }],
      output_config: { format: { type: "json_schema" } },
      // An effort level travels as a thinking budget (every thinking model takes one), kept under max_tokens.
      thinking: { type: "enabled", budget_tokens: 2047, display: "omitted" },
    });
    expect(t.requestFromIr({ model: "m", stream: false, messages: [user("x")], extra: { logprobs: true } })).not.toHaveProperty("logprobs");
  });

  it("peeks model and stream flag, and passes a body through with only the model changed", () => {
    expect(t.peek({ model: "claude-x", stream: true }, info)).toEqual({ model: "claude-x", stream: true });
    const body = { model: "alias", max_tokens: 5, stream: true, messages: [] };
    const frozen = structuredClone(body);
    expect(t.preparePassthrough(body, "claude-sonnet-4-5-20250929", true)).toEqual({ ...frozen, model: "claude-sonnet-4-5-20250929" });
    expect(body).toEqual(frozen);
    expect(t.preparePassthrough(body, "alias", true)).toBeUndefined();
  });

  const ok = { model: "m", max_tokens: 10 };
  const invalid: Array<[string, unknown, string]> = [
    ["a missing max_tokens", { model: "m", messages: [{ role: "user", content: "x" }] }, "max_tokens"],
    ["a missing model", { max_tokens: 1, messages: [{ role: "user", content: "x" }] }, "model"],
    ["no messages", { ...ok, messages: [] }, "messages"],
    ["a bad role", { ...ok, messages: [{ role: "tool", content: "x" }] }, "messages.0.role"],
    ["a document block without a source type", { ...ok, messages: [{ role: "user", content: [{ type: "document", source: {} }] }] }, "messages.0.content.0.source.type"],
    ["a file image", { ...ok, messages: [{ role: "user", content: [{ type: "image", source: { type: "file", file_id: "f" } }] }] }, "messages.0.content.0.source.type"],
    ["a tool_use without input", { ...ok, messages: [{ role: "assistant", content: [{ type: "tool_use", id: "1", name: "f" }] }] }, "messages.0.content.0.input"],
    ["a tool_result without id", { ...ok, messages: [{ role: "user", content: [{ type: "tool_result", content: "x" }] }] }, "messages.0.content.0.tool_use_id"],
    ["a system block that is not text", { ...ok, system: [{ type: "image" }], messages: [{ role: "user", content: "x" }] }, "system.0.type"],
    ["a bad cache_control", { ...ok, system: [{ type: "text", text: "s", cache_control: { type: "forever" } }], messages: [{ role: "user", content: "x" }] }, "system.0.cache_control.type"],
    ["an unknown tool_choice", { ...ok, tool_choice: { type: "maybe" }, messages: [{ role: "user", content: "x" }] }, "tool_choice.type"],
    ["thinking without a budget", { ...ok, thinking: { type: "enabled" }, messages: [{ role: "user", content: "x" }] }, "thinking.budget_tokens"],
    ["a numeric stop sequence", { ...ok, stop_sequences: [1], messages: [{ role: "user", content: "x" }] }, "stop_sequences.0"],
    ["a string top_k", { ...ok, top_k: "5", messages: [{ role: "user", content: "x" }] }, "top_k"],
  ];
  for (const [what, body, param] of invalid) {
    it(`rejects ${what} with a 400 naming ${param}`, () => {
      const err = errorOf(() => t.requestToIr(body, info));
      expect(err).toMatchObject({ status: 400, type: "invalid_request", param });
    });
  }
});
