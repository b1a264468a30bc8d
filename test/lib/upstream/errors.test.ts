import { describe, expect, it } from "vitest";
import { parseRetryAfter, readUpstreamErrorDetail, scrubUpstreamText, upstreamConnectError, upstreamStatusError, upstreamTimeoutError } from "../../../lib/upstream/errors.js";
import { GatewayError } from "../../../core/index.js";
import { registerSecret } from "../../../core/contract/log.js";

describe("upstreamStatusError", () => {
  it.each([
    [400, 400, "invalid_request"],
    [401, 401, "authentication"],
    [403, 403, "permission"],
    [404, 404, "not_found"],
    [408, 504, "timeout"],
    [409, 409, "invalid_request"],
    [413, 413, "payload_too_large"],
    [422, 400, "invalid_request"],
    [429, 429, "rate_limit"],
    [500, 502, "upstream_error"],
    [502, 502, "upstream_error"],
    [503, 503, "unavailable"],
    [504, 502, "upstream_error"],
    [529, 503, "unavailable"],
    [302, 502, "upstream_error"],
  ])("maps upstream %i to gateway %i %s with failure status", (upstream, status, type) => {
    const err = upstreamStatusError({ status: upstream, source: "p" });
    expect(err).toMatchObject({ status, type, failure: "status", upstreamStatus: upstream, code: `upstream_http_${upstream}`, source: "p" });
    expect(err.message).toBe(`the upstream replied with HTTP ${upstream}`);
  });

  it("keeps the upstream's message, code, param and retry delay", () => {
    const err = upstreamStatusError({ status: 429, message: "slow down", code: "rate_limit_exceeded", param: "model", retryAfterMs: 1500, source: "p" });
    expect(err).toMatchObject({ message: "slow down", code: "rate_limit_exceeded", param: "model", retryAfterMs: 1500 });
  });
});

describe("transport errors", () => {
  it("classifies a connect failure as 502 with failure connect and names only the reason", () => {
    const err = upstreamConnectError("p", "ECONNREFUSED");
    expect(err).toMatchObject({ status: 502, type: "upstream_error", failure: "connect", code: "upstream_connect_failed" });
    expect(err.message).toContain("ECONNREFUSED");
  });

  it.each(["connect", "headers"] as const)("classifies a %s timeout as 504 with failure timeout", (phase) => {
    expect(upstreamTimeoutError("p", phase)).toMatchObject({ status: 504, type: "timeout", failure: "timeout", code: `upstream_${phase}_timeout` });
  });

  it("classifies undici's body timeout, plain or streamed, as the one idle timeout", () => {
    const undici = Object.assign(new Error("Body Timeout Error"), { code: "UND_ERR_BODY_TIMEOUT" });
    expect(GatewayError.upstreamBodyBroke(undici, "p")).toMatchObject({ status: 504, type: "timeout", failure: "timeout", code: "upstream_idle_timeout", source: "p" });
    expect(GatewayError.upstreamBodyBroke(new Error("socket hang up"))).toMatchObject({ status: 502, failure: "stream", code: "upstream_body_failed" });
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds, fractional seconds and milliseconds, preferring retry-after-ms", () => {
    expect(parseRetryAfter({ "retry-after": "3" })).toBe(3000);
    expect(parseRetryAfter({ "retry-after": "0.5" })).toBe(500);
    expect(parseRetryAfter({ "retry-after": "3", "retry-after-ms": "1200" })).toBe(1200);
    expect(parseRetryAfter({ "retry-after-ms": ["250", "999"] })).toBe(250);
  });

  it("reads an HTTP date relative to now and never goes negative", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter({ "retry-after": "Wed, 01 Jan 2025 00:00:07 GMT" }, now)).toBe(7000);
    expect(parseRetryAfter({ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }, now)).toBe(0);
  });

  it("ignores absent and unreadable values", () => {
    expect(parseRetryAfter({})).toBeUndefined();
    expect(parseRetryAfter({ "retry-after": "soon" })).toBeUndefined();
    expect(parseRetryAfter({ "retry-after-ms": "-5" })).toBeUndefined();
  });
});

describe("readUpstreamErrorDetail", () => {
  it("reads the wait of a Gemini RetryInfo detail (a protobuf Duration) as retryAfterMs", () => {
    const body = JSON.stringify({
      error: {
        code: 429,
        message: "Resource has been exhausted",
        status: "RESOURCE_EXHAUSTED",
        details: [
          { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [] },
          { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "7.5s" },
        ],
      },
    });
    expect(readUpstreamErrorDetail(body, "application/json")).toEqual({ message: "Resource has been exhausted", code: "resource_exhausted", retryAfterMs: 7500 });
    // Anything else in details (or a malformed delay) says nothing about waiting.
    const other = JSON.stringify({ error: { code: 429, message: "m", status: "RESOURCE_EXHAUSTED", details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "soon" }] } });
    expect(readUpstreamErrorDetail(other, "application/json").retryAfterMs).toBeUndefined();
  });

  it("reads an OpenAI error body", () => {
    const body = JSON.stringify({ error: { message: "The model `x` does not exist", type: "invalid_request_error", code: "model_not_found", param: "model" } });
    expect(readUpstreamErrorDetail(body, "application/json")).toEqual({ message: "The model `x` does not exist", code: "model_not_found", param: "model" });
  });

  it("reads an Anthropic error body", () => {
    const body = JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    expect(readUpstreamErrorDetail(body, "application/json")).toMatchObject({ message: "Overloaded", code: "overloaded_error" });
  });

  it("reads a Gemini error body, also wrapped in an array", () => {
    const body = { error: { code: 400, message: "API key not valid.", status: "INVALID_ARGUMENT" } };
    expect(readUpstreamErrorDetail(JSON.stringify(body), "application/json")).toMatchObject({ message: "API key not valid.", code: "invalid_argument" });
    expect(readUpstreamErrorDetail(JSON.stringify([body]), "application/json")).toMatchObject({ message: "API key not valid." });
  });

  it("reads Ollama, vLLM and FastAPI shapes and plain text", () => {
    expect(readUpstreamErrorDetail('{"error":"model \\"llama\\" not found"}', "application/json").message).toBe('model "llama" not found');
    expect(readUpstreamErrorDetail('{"object":"error","message":"bad","type":"BadRequestError","code":400}', undefined)).toMatchObject({
      message: "bad",
      code: "badrequesterror",
    });
    expect(readUpstreamErrorDetail('{"detail":"Not Found"}', "application/json").message).toBe("Not Found");
    expect(readUpstreamErrorDetail("upstream connect error", "text/plain").message).toBe("upstream connect error");
  });

  it("ignores HTML error pages and bodies without a message", () => {
    expect(readUpstreamErrorDetail("<html><body>502 Bad Gateway</body></html>", "text/html")).toEqual({});
    expect(readUpstreamErrorDetail("", undefined)).toEqual({});
    expect(readUpstreamErrorDetail("42", "application/json")).toEqual({});
  });

  it("drops codes and params that are not plain identifiers", () => {
    const body = JSON.stringify({ error: { message: "m", code: "has spaces <b>", param: "a b" } });
    expect(readUpstreamErrorDetail(body, "application/json")).toEqual({ message: "m", code: undefined, param: undefined });
  });
});

describe("scrubUpstreamText", () => {
  it("removes the backend's secrets, registered secrets and key-shaped tokens", () => {
    registerSecret("registered-secret-value");
    const text =
      "Incorrect API key provided: sk-proj-abc123***xyz. key=AIzaSyA1234567890abcdefgh auth=Bearer tok.en " +
      "my-own-key registered-secret-value at 10.0.0.5:8000";
    const out = scrubUpstreamText(text, ["my-own-key", "10.0.0.5:8000"]);
    for (const leaked of ["sk-proj", "AIzaSy", "tok.en", "my-own-key", "registered-secret-value", "10.0.0.5"]) expect(out).not.toContain(leaked);
    expect(out).toContain("Incorrect API key provided");
  });

  it("bounds very long messages", () => {
    expect(scrubUpstreamText("x".repeat(5000)).length).toBeLessThanOrEqual(1001);
  });
});

describe("readUpstreamErrorDetail: secrets in any error field", () => {
  const BACKEND_KEY = "plainbackendkey1234";
  it.each([
    ["code", { error: { message: "no", code: "sk-proj-abcdef123456", type: "invalid_request_error" } }],
    ["type", { error: { message: "no", type: "sk-proj-abcdef123456" } }],
    ["status", { error: { message: "no", status: BACKEND_KEY, code: 401 } }],
    ["param", { error: { message: "no", code: "bad", param: BACKEND_KEY } }],
    ["code (the backend's own key)", { error: { message: "no", code: BACKEND_KEY } }],
  ])("drops a %s that carries the upstream key instead of relaying it", (_field, body) => {
    const detail = readUpstreamErrorDetail(JSON.stringify(body), "application/json", [BACKEND_KEY]);
    const shown = JSON.stringify(detail);
    expect(shown).not.toContain("sk-proj-abcdef123456");
    expect(shown.toLowerCase()).not.toContain(BACKEND_KEY.toLowerCase());
    expect(detail.message).toBe("no");
  });

  it("keeps a plain code and param", () => {
    expect(readUpstreamErrorDetail(JSON.stringify({ error: { message: "m", code: "Model_Not_Found", param: "model" } }), "application/json", ["plainbackendkey1234"])).toEqual({ message: "m", code: "model_not_found", param: "model" });
  });
});
