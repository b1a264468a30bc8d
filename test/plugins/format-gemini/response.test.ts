import { describe, expect, it } from "vitest";
import { GatewayError, type GatewayErrorType, type IrRequest, type IrResponse } from "../../../core/index.js";
import plugin from "../../../plugins/format-gemini/index.js";
import { readFixture } from "../formats/stream-support.js";

const t = plugin.translator;
const fixtures = readFixture<Array<{ name: string; wire: unknown; ir: Omit<IrResponse, "created"> }>>("gemini", "responses.json");
const request: IrRequest = { model: "gemini", stream: false, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] };

describe("format-gemini responses", () => {
  for (const f of fixtures) {
    it(`reads the wire response into the IR: ${f.name}`, () => {
      const ir = t.responseToIr(f.wire);
      expect(ir).toEqual({ ...f.ir, created: ir.created });
    });
    it(`writes the IR response so that reading it back gives the same IR: ${f.name}`, () => {
      const back = t.responseToIr(t.responseFromIr({ ...f.ir, created: 1 }, request));
      expect(back).toEqual({ ...f.ir, created: back.created });
    });
  }

  it("writes a GenerateContentResponse with thoughts counted apart from candidates", () => {
    const body = t.responseFromIr(
      {
        id: "chatcmpl-1",
        model: "gpt-4o",
        created: 1,
        content: [{ type: "thinking", text: "plan", signature: "s1" }, { type: "text", text: "Hi" }],
        finishReason: "length",
        usage: { inputTokens: 100, outputTokens: 50, cachedReadTokens: 60, cacheWriteTokens: 10, reasoningTokens: 20 },
      },
      request,
    );
    expect(body).toEqual({
      candidates: [{ content: { role: "model", parts: [{ text: "plan", thought: true, thoughtSignature: "s1" }, { text: "Hi" }] }, finishReason: "MAX_TOKENS", index: 0 }],
      modelVersion: "gpt-4o",
      responseId: "chatcmpl-1",
      usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 30, totalTokenCount: 150, cachedContentTokenCount: 60, thoughtsTokenCount: 20 },
    });
  });

  it("maps finish reasons both ways, with STOP plus calls meaning tool calls", () => {
    const finish = (reason: IrResponse["finishReason"]) =>
      (t.responseFromIr({ id: "x", model: "m", created: 1, content: [], finishReason: reason }, request) as { candidates: Array<{ finishReason: string }> }).candidates[0]!.finishReason;
    expect(["stop", "tool_calls", "length", "content_filter", "error", "other"].map((r) => finish(r as IrResponse["finishReason"]))).toEqual(["STOP", "STOP", "MAX_TOKENS", "SAFETY", "OTHER", "OTHER"]);
    const read = (finishReason: string) => t.responseToIr({ candidates: [{ content: { parts: [{ text: "x" }] }, finishReason }] }).finishReason;
    expect(["RECITATION", "PROHIBITED_CONTENT", "MALFORMED_FUNCTION_CALL", "LANGUAGE", "FINISH_REASON_UNSPECIFIED"].map(read)).toEqual(["content_filter", "content_filter", "error", "content_filter", "other"]);
  });

  it("counts tool-use prompt tokens as input and reads usage from a plain body", () => {
    expect(t.usageOf({ usageMetadata: { promptTokenCount: 10, toolUsePromptTokenCount: 5, candidatesTokenCount: 2 } })).toEqual({ inputTokens: 15, outputTokens: 2 });
    expect(t.usageOf({})).toBeUndefined();
  });

  it("turns a Google error body into the matching GatewayError and junk into a 502", () => {
    expect(() => t.responseToIr({ error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" } })).toThrow(
      expect.objectContaining({ status: 429, type: "rate_limit", code: "resource_exhausted" }),
    );
    for (const body of [7, {}, { candidates: {} }, { candidates: [{ content: { parts: "x" } }] }, { candidates: [{ content: { parts: [{ functionCall: {} }] } }] }]) {
      expect(() => t.responseToIr(body)).toThrow(expect.objectContaining({ status: 502, code: "bad_upstream_response" }));
    }
  });

  const types: Array<[GatewayErrorType, number, string]> = [
    ["invalid_request", 400, "INVALID_ARGUMENT"],
    ["authentication", 401, "UNAUTHENTICATED"],
    ["permission", 403, "PERMISSION_DENIED"],
    ["not_found", 404, "NOT_FOUND"],
    ["payload_too_large", 413, "INVALID_ARGUMENT"],
    ["rate_limit", 429, "RESOURCE_EXHAUSTED"],
    ["budget_exceeded", 429, "RESOURCE_EXHAUSTED"],
    ["upstream_error", 502, "INTERNAL"],
    ["timeout", 504, "DEADLINE_EXCEEDED"],
    ["unavailable", 503, "UNAVAILABLE"],
    ["internal", 500, "INTERNAL"],
  ];
  for (const [type, status, wireStatus] of types) {
    it(`renders ${type} errors as Google ${wireStatus} with code ${status}`, () => {
      expect(t.renderError(new GatewayError({ status, type, code: "c", message: "safe text" }))).toEqual({ status, body: { error: { code: status, message: "safe text", status: wireStatus } } });
    });
  }

  it("renders a model listing as Gemini's models list", () => {
    expect(t.renderModels!([{ id: "gemini-2.0-flash", ownedBy: "google" }])).toEqual({
      models: [{ name: "models/gemini-2.0-flash", displayName: "gemini-2.0-flash", supportedGenerationMethods: ["generateContent", "streamGenerateContent"] }],
    });
  });
});
