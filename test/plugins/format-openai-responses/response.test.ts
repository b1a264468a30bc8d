import { describe, expect, it } from "vitest";
import { GatewayError, type IrRequest, type IrResponse } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-responses/index.js";
import { readFixture } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; wire: unknown; ir: IrResponse }>>("openai-responses", "responses.json");
const request: IrRequest = { model: "gpt-4.1", stream: false, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], maxTokens: 500, temperature: 0.3 };

describe("format-openai-responses responses", () => {
  for (const f of fixtures) {
    it(`reads the wire response into the IR: ${f.name}`, () => {
      expect(t.responseToIr(f.wire)).toEqual(f.ir);
    });
    it(`writes the IR response so that reading it back gives the same IR: ${f.name}`, () => {
      const back = t.responseToIr(t.responseFromIr(f.ir, request));
      expect(back).toEqual({ ...f.ir, ...(f.ir.usage ? { usage: { cachedReadTokens: 0, reasoningTokens: 0, ...f.ir.usage } } : {}) });
    });
  }

  it("writes a full response object echoing the request, with items in order", () => {
    const body = t.responseFromIr(
      {
        id: "msg_01",
        model: "claude-x",
        created: 1700000000,
        content: [{ type: "thinking", text: "plan", signature: "sig" }, { type: "text", text: "Hi " }, { type: "text", text: "there" }, { type: "tool_call", id: "toolu_1", name: "f", arguments: "{}" }],
        finishReason: "tool_calls",
        usage: { inputTokens: 10, outputTokens: 5, cachedReadTokens: 4, cacheWriteTokens: 2, reasoningTokens: 1 },
      },
      request,
    ) as Record<string, any>;
    expect(body).toMatchObject({
      id: "msg_01",
      object: "response",
      created_at: 1700000000,
      status: "completed",
      error: null,
      incomplete_details: null,
      model: "claude-x",
      max_output_tokens: 500,
      temperature: 0.3,
      store: false,
      usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 4, cache_write_tokens: 2 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 1 }, total_tokens: 15 },
    });
    expect(body.output.map((i: { type: string }) => i.type)).toEqual(["reasoning", "message", "function_call"]);
    expect(body.output[0]).toMatchObject({ type: "reasoning", summary: [{ type: "summary_text", text: "plan" }], encrypted_content: "sig" });
    expect(body.output[0].id).toMatch(/^rs_/);
    expect(body.output[1]).toMatchObject({ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hi " }, { type: "output_text", text: "there" }] });
    expect(body.output[2]).toMatchObject({ type: "function_call", call_id: "toolu_1", name: "f", arguments: "{}", status: "completed" });
  });

  it("maps finish reasons to statuses, and a failed response back to the error it carries", () => {
    const status = (finishReason: IrResponse["finishReason"]) => {
      const body = t.responseFromIr({ id: "x", model: "m", created: 1, content: [], finishReason }, request) as Record<string, unknown>;
      return [body.status, body.incomplete_details];
    };
    expect(status("stop")).toEqual(["completed", null]);
    expect(status("length")).toEqual(["incomplete", { reason: "max_output_tokens" }]);
    expect(status("content_filter")).toEqual(["incomplete", { reason: "content_filter" }]);
    expect(status("error")[0]).toBe("failed");
    expect(() => t.responseToIr({ object: "response", status: "failed", output: [], error: { code: "rate_limit_exceeded", message: "slow down" } })).toThrow(
      expect.objectContaining({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", message: "slow down" }),
    );
  });

  it("skips hosted tool items and reads refusals as text", () => {
    const ir = t.responseToIr({
      object: "response",
      status: "completed",
      output: [
        { type: "web_search_call", id: "ws_1", status: "completed" },
        { type: "message", role: "assistant", content: [{ type: "refusal", refusal: "No." }] },
      ],
    });
    expect(ir.content).toEqual([{ type: "text", text: "No." }]);
  });

  it("reads usage from a plain body and turns junk into a 502", () => {
    expect(t.usageOf(fixtures[0]!.wire)).toEqual(fixtures[0]!.ir.usage);
    for (const body of [null, { object: "response" }, { output: [1] }, { output: [{ type: "function_call", name: "f" }] }, { output: [{ type: "message", content: "x" }] }]) {
      expect(() => t.responseToIr(body)).toThrow(expect.objectContaining({ status: 502, code: "bad_upstream_response" }));
    }
  });

  it("renders errors in OpenAI's shape", () => {
    expect(t.renderError(new GatewayError({ status: 400, type: "invalid_request", code: "unsupported_content", message: "input[0].type: nope", param: "input[0].type" }))).toEqual({
      status: 400,
      body: { error: { message: "input[0].type: nope", type: "invalid_request_error", code: "unsupported_content", param: "input[0].type" } },
    });
    expect(t.renderError(new GatewayError({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", message: "slow" })).body).toMatchObject({ error: { type: "rate_limit_error", param: null } });
  });
});
