import { describe, expect, it } from "vitest";
import { GatewayError, type GatewayErrorType, type IrRequest, type IrResponse } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-chat/index.js";
import { readFixture } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; wire: unknown; ir: IrResponse }>>("openai-chat", "responses.json");
const request: IrRequest = { model: "gpt-4o", stream: false, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

describe("format-openai-chat responses", () => {
  for (const f of fixtures) {
    it(`reads the wire response into the IR: ${f.name}`, () => {
      expect(t.responseToIr(f.wire)).toEqual(f.ir);
    });
    it(`writes the IR response so that reading it back gives the same IR: ${f.name}`, () => {
      const back = t.responseToIr(t.responseFromIr(f.ir, request));
      expect(back).toEqual({ ...f.ir, usage: { cachedReadTokens: 0, reasoningTokens: 0, ...f.ir.usage } });
    });
  }

  it("writes a chat.completion body with null content beside tool calls and total_tokens", () => {
    const body = t.responseFromIr(
      {
        id: "msg_01",
        model: "claude-sonnet-4-5",
        created: 1700000000,
        content: [{ type: "tool_call", id: "toolu_1", name: "f", arguments: "{\"a\":1}" }],
        finishReason: "tool_calls",
        usage: { inputTokens: 100, outputTokens: 20, cachedReadTokens: 80, cacheWriteTokens: 10 },
      },
      request,
    );
    expect(body).toEqual({
      id: "msg_01",
      object: "chat.completion",
      created: 1700000000,
      model: "claude-sonnet-4-5",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: null, refusal: null, tool_calls: [{ id: "toolu_1", type: "function", function: { name: "f", arguments: "{\"a\":1}" } }] },
          logprobs: null,
          finish_reason: "tool_calls",
        },
      ],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        prompt_tokens_details: { cached_tokens: 80, cache_write_tokens: 10 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  });

  it("maps finish reasons OpenAI lacks onto stop", () => {
    for (const reason of ["error", "other"] as const) {
      const body = t.responseFromIr({ id: "x", model: "m", created: 1, content: [], finishReason: reason }, request) as { choices: Array<{ finish_reason: string; message: { content: unknown } }> };
      expect(body.choices[0]!.finish_reason).toBe("stop");
      expect(body.choices[0]!.message.content).toBe("");
    }
  });

  it("reads usage from a plain response body", () => {
    expect(t.usageOf(fixtures[0]!.wire)).toEqual(fixtures[0]!.ir.usage);
    expect(t.usageOf({ choices: [] })).toBeUndefined();
    expect(t.usageOf(null)).toBeUndefined();
  });

  const malformed: Array<[string, unknown]> = [
    ["a string body", "oops"],
    ["a body without choices", { id: "x" }],
    ["a choice without message", { choices: [{ index: 0 }] }],
    ["a tool call without function", { choices: [{ message: { tool_calls: [{ id: "1" }] } }] }],
  ];
  for (const [what, body] of malformed) {
    it(`turns ${what} into a 502 upstream_error`, () => {
      let caught: unknown;
      try {
        t.responseToIr(body);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(GatewayError);
      expect(caught).toMatchObject({ status: 502, type: "upstream_error", code: "bad_upstream_response" });
    });
  }

  it("turns a 200 body carrying an OpenAI error into that error", () => {
    expect(() => t.responseToIr({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } })).toThrow(
      expect.objectContaining({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", message: "Rate limit reached" }),
    );
  });

  const types: Array<[GatewayErrorType, number, string]> = [
    ["invalid_request", 400, "invalid_request_error"],
    ["authentication", 401, "authentication_error"],
    ["permission", 403, "permission_error"],
    ["not_found", 404, "not_found_error"],
    ["payload_too_large", 413, "invalid_request_error"],
    ["rate_limit", 429, "rate_limit_error"],
    ["budget_exceeded", 429, "insufficient_quota"],
    ["upstream_error", 502, "api_error"],
    ["timeout", 504, "timeout_error"],
    ["unavailable", 503, "service_unavailable_error"],
    ["internal", 500, "api_error"],
  ];
  for (const [type, status, wireType] of types) {
    it(`renders ${type} errors as OpenAI ${wireType} with status ${status}`, () => {
      const err = new GatewayError({ status, type, code: `${type}_code`, message: "safe text", ...(type === "invalid_request" ? { param: "messages[0]" } : {}) });
      expect(t.renderError(err)).toEqual({
        status,
        body: { error: { message: "safe text", type: wireType, code: `${type}_code`, param: type === "invalid_request" ? "messages[0]" : null } },
      });
    });
  }

  it("renders a model listing as OpenAI's list object", () => {
    expect(t.renderModels!([{ id: "gpt-4o", ownedBy: "openai" }])).toEqual({
      object: "list",
      data: [{ id: "gpt-4o", object: "model", created: 0, owned_by: "openai" }],
    });
  });
});
