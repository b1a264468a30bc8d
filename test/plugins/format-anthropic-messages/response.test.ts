import { describe, expect, it } from "vitest";
import { GatewayError, type GatewayErrorType, type IrRequest, type IrResponse } from "../../../core/index.js";
import plugin from "../../../plugins/format-anthropic-messages/index.js";
import { readFixture } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; wire: unknown; ir: Omit<IrResponse, "created"> }>>("anthropic-messages", "responses.json");
const request: IrRequest = { model: "claude", stream: false, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

describe("format-anthropic-messages responses", () => {
  for (const f of fixtures) {
    it(`reads the wire response into the IR: ${f.name}`, () => {
      const ir = t.responseToIr(f.wire);
      expect(ir).toEqual({ ...f.ir, created: ir.created });
    });
    it(`writes the IR response so that reading it back gives the same IR: ${f.name}`, () => {
      const ir = { ...f.ir, created: 1 };
      const back = t.responseToIr(t.responseFromIr(ir, request));
      expect(back).toEqual({ ...ir, created: back.created, usage: { cachedReadTokens: 0, cacheWriteTokens: 0, ...f.ir.usage } });
    });
  }

  it("subtracts cache reads and writes from input_tokens, as Anthropic counts them", () => {
    const body = t.responseFromIr(
      { id: "chatcmpl-1", model: "gpt-4o", created: 1, content: [{ type: "text", text: "hi" }], finishReason: "stop", usage: { inputTokens: 1000, outputTokens: 50, cachedReadTokens: 800, reasoningTokens: 10 } },
      request,
    );
    expect(body).toEqual({
      id: "chatcmpl-1",
      type: "message",
      role: "assistant",
      model: "gpt-4o",
      content: [{ type: "text", text: "hi" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 200, cache_creation_input_tokens: 0, cache_read_input_tokens: 800, output_tokens: 50, output_tokens_details: { thinking_tokens: 10 } },
    });
  });

  it("maps IR finish reasons to Anthropic stop reasons", () => {
    const stop = (finishReason: IrResponse["finishReason"], stopSequence?: string) =>
      (t.responseFromIr({ id: "x", model: "m", created: 1, content: [], finishReason, ...(stopSequence ? { stopSequence } : {}) }, request) as { stop_reason: string }).stop_reason;
    expect([stop("stop"), stop("stop", "END"), stop("length"), stop("tool_calls"), stop("content_filter"), stop("error"), stop("other")]).toEqual([
      "end_turn",
      "stop_sequence",
      "max_tokens",
      "tool_use",
      "refusal",
      "end_turn",
      "end_turn",
    ]);
  });

  it("gives thinking from other formats an empty signature and tool arguments that are not JSON an empty input", () => {
    const body = t.responseFromIr(
      { id: "x", model: "m", created: 1, content: [{ type: "thinking", text: "hmm" }, { type: "tool_call", id: "c", name: "f", arguments: "{broken" }], finishReason: "tool_calls" },
      request,
    ) as { content: unknown[] };
    expect(body.content).toEqual([
      { type: "thinking", thinking: "hmm", signature: "" },
      { type: "tool_use", id: "c", name: "f", input: {} },
    ]);
  });

  it("reads usage from a plain body and ignores server tool blocks", () => {
    expect(t.usageOf(fixtures[0]!.wire)).toEqual(fixtures[0]!.ir.usage);
    const ir = t.responseToIr({
      id: "m",
      type: "message",
      content: [{ type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} }, { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] }, { type: "text", text: "Found it." }],
      stop_reason: "end_turn",
      usage: { input_tokens: 1, output_tokens: 2 },
    });
    expect(ir.content).toEqual([{ type: "text", text: "Found it." }]);
  });

  it("turns an Anthropic error body into the matching GatewayError and junk into a 502", () => {
    expect(() => t.responseToIr({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })).toThrow(
      expect.objectContaining({ status: 503, type: "unavailable", code: "overloaded_error", message: "Overloaded" }),
    );
    for (const body of ["x", { content: "nope" }, { content: [{ type: "text" }] }, { content: [{ type: "tool_use", name: "f" }] }]) {
      expect(() => t.responseToIr(body)).toThrow(expect.objectContaining({ status: 502, type: "upstream_error", code: "bad_upstream_response" }));
    }
  });

  const types: Array<[GatewayErrorType, number, string]> = [
    ["invalid_request", 400, "invalid_request_error"],
    ["authentication", 401, "authentication_error"],
    ["permission", 403, "permission_error"],
    ["not_found", 404, "not_found_error"],
    ["payload_too_large", 413, "request_too_large"],
    ["rate_limit", 429, "rate_limit_error"],
    ["budget_exceeded", 402, "billing_error"],
    ["upstream_error", 502, "api_error"],
    ["timeout", 504, "timeout_error"],
    ["unavailable", 529, "overloaded_error"],
    ["internal", 500, "api_error"],
  ];
  for (const [type, status, wireType] of types) {
    it(`renders ${type} errors as Anthropic ${wireType} with status ${status}`, () => {
      expect(t.renderError(new GatewayError({ status, type, code: "c", message: "safe text", param: "p" }))).toEqual({
        status,
        body: { type: "error", error: { type: wireType, message: "safe text" } },
      });
    });
  }

  it("renders a model listing as Anthropic's page", () => {
    expect(t.renderModels!([{ id: "claude-a", ownedBy: "anthropic" }, { id: "claude-b", ownedBy: "anthropic" }])).toEqual({
      data: [
        { type: "model", id: "claude-a", display_name: "claude-a", created_at: "1970-01-01T00:00:00Z" },
        { type: "model", id: "claude-b", display_name: "claude-b", created_at: "1970-01-01T00:00:00Z" },
      ],
      has_more: false,
      first_id: "claude-a",
      last_id: "claude-b",
    });
  });
});
