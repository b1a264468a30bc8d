import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/contract/errors.js";
import type { Exchange, Answer } from "../../../core/index.js";
import { createMemoryStore } from "../../../lib/state/memory.js";
import { configFor, createTestExchange, createTestStep } from "../../../testkit/index.js";
import ratelimit, { estimateTokens, formatDuration, windowMs } from "../../../plugins/ratelimit/index.js";

async function step(config: unknown, store = createMemoryStore()) {
  const { hooks } = await createTestStep(ratelimit, config, { store });
  const validate = (exchange: Exchange): Promise<Answer | undefined> => hooks.validate.promise(exchange);
  return { hooks, store, validate };
}

const user = (init: Parameters<typeof createTestExchange>[0] = {}) => createTestExchange({ keyId: "key-1", tenant: "acme", ...init });

describe("ratelimit requests", () => {
  it("allows the limit per key, then answers 429 rate_limit with retry-after and OpenAI's headers", async () => {
    const { validate } = await step({ rules: [{ by: "key", requests: { limit: 2, window: "1m" } }] });
    const first = user();
    expect(await validate(first)).toBeUndefined();
    expect(first.responseHeaders).toMatchObject({ "x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "1" });
    expect(first.responseHeaders["x-ratelimit-reset-requests"]).toMatch(/^(\d+m)?[\d.]+s$/);
    expect(await validate(user())).toBeUndefined();
    const third = user();
    const refusal = await validate(third);
    expect(refusal).toBeInstanceOf(GatewayError);
    expect(refusal).toMatchObject({ status: 429, type: "rate_limit", code: "rate_limit_exceeded", source: "ratelimit" });
    expect((refusal as GatewayError).retryAfterMs).toBeGreaterThan(0);
    expect((refusal as GatewayError).headers).toMatchObject({ "x-ratelimit-remaining-requests": "0" });
    expect(third.responseHeaders["x-ratelimit-remaining-requests"]).toBe("0");
  });

  it("counts each key, tenant, model and header value separately", async () => {
    const { validate } = await step({
      rules: [
        { by: "key", requests: { limit: 1, window: "1h" } },
        { by: "tenant", requests: { limit: 2, window: "1h" } },
      ],
    });
    expect(await validate(user({ keyId: "a" }))).toBeUndefined();
    expect(await validate(user({ keyId: "b" }))).toBeUndefined();
    expect(await validate(user({ keyId: "c" }))).toMatchObject({ status: 429 }); // tenant acme is full
    expect(await validate(user({ keyId: "c", tenant: "other" }))).toBeUndefined();
    expect(await validate(user({ keyId: "a", tenant: "other" }))).toMatchObject({ status: 429 }); // key a is full

    const byModel = await step({ rules: [{ by: "model", requests: { limit: 1, window: "1h" } }] });
    expect(await byModel.validate(user({ model: "gpt-4o" }))).toBeUndefined();
    expect(await byModel.validate(user({ model: "gpt-4o-mini" }))).toBeUndefined();
    expect(await byModel.validate(user({ model: "gpt-4o" }))).toMatchObject({ status: 429 });

    const byHeader = await step({ rules: [{ by: "header:X-User-Id", requests: { limit: 1, window: "1h" } }] });
    expect(await byHeader.validate(user({ headers: { "x-user-id": "u1" } }))).toBeUndefined();
    expect(await byHeader.validate(user({ headers: { "x-user-id": "u2" } }))).toBeUndefined();
    expect(await byHeader.validate(user({ headers: { "x-user-id": "u1" } }))).toMatchObject({ status: 429 });
  });

  it("skips a rule whose subject the request lacks", async () => {
    const { validate } = await step({ rules: [{ by: "header:x-user-id", requests: { limit: 1, window: "1h" } }, { by: "tenant", requests: { limit: 1, window: "1h" } }] });
    expect(await validate(createTestExchange())).toBeUndefined();
    expect(await validate(createTestExchange())).toBeUndefined();
  });

  it("a global rule counts all requests together", async () => {
    const { validate } = await step({ rules: [{ by: "global", requests: { limit: 3, window: 60000 } }] });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => validate(user({ keyId: `k${i}` }))));
    expect(results.filter((r) => r === undefined).length).toBe(3);
  });

  it("a refused request takes nothing: what earlier rules counted is given back", async () => {
    const { validate } = await step({
      rules: [
        { by: "tenant", requests: { limit: 3, window: "1h" } },
        { by: "key", requests: { limit: 1, window: "1h" } },
      ],
    });
    expect(await validate(user({ keyId: "a" }))).toBeUndefined();
    expect(await validate(user({ keyId: "a" }))).toMatchObject({ status: 429 });
    expect(await validate(user({ keyId: "a" }))).toMatchObject({ status: 429 });
    // The tenant rule saw 3 tries but only 1 success: 2 more keys still fit.
    expect(await validate(user({ keyId: "b" }))).toBeUndefined();
    expect(await validate(user({ keyId: "c" }))).toBeUndefined();
    expect(await validate(user({ keyId: "d" }))).toMatchObject({ status: 429 });
  });
});

describe("ratelimit tokens", () => {
  const body = (maxTokens: number) => ({ model: "m", max_tokens: maxTokens, messages: [{ role: "user", content: "hi" }] });

  it("reserves an estimate before the call and settles it to the real usage", async () => {
    const { hooks, validate } = await step({ rules: [{ by: "key", tokens: { limit: 1000, window: "1m" } }] });
    const first = user({ body: body(500) });
    expect(await validate(first)).toBeUndefined();
    const estimate = estimateTokens(first.body, 1024);
    expect(first.responseHeaders["x-ratelimit-remaining-tokens"]).toBe(String(1000 - estimate));
    expect(await validate(user({ body: body(500) }))).toMatchObject({ status: 429, type: "rate_limit" });
    first.usage = { inputTokens: 10, outputTokens: 20 };
    first.attempts.push({ backend: "b", model: "m", status: 200, latencyMs: 5 });
    await hooks.settle.promise(first);
    const second = user({ body: body(500) });
    expect(await validate(second)).toBeUndefined();
    expect(second.responseHeaders["x-ratelimit-remaining-tokens"]).toBe(String(1000 - 30 - estimate));
  });

  it("gives the whole estimate back when no backend answered", async () => {
    const { hooks, validate } = await step({ rules: [{ by: "key", tokens: { limit: 1000, window: "1m" } }] });
    const failed = user({ body: body(900) });
    expect(await validate(failed)).toBeUndefined();
    failed.attempts.push({ backend: "b", model: "m", failure: "connect", latencyMs: 1 });
    await hooks.settle.promise(failed);
    expect(await validate(user({ body: body(900) }))).toBeUndefined();
  });

  it("keeps the estimate when a backend answered but usage never arrived", async () => {
    const { hooks, validate } = await step({ rules: [{ by: "key", tokens: { limit: 1000, window: "1m" } }] });
    const cut = user({ body: body(900) });
    expect(await validate(cut)).toBeUndefined();
    cut.attempts.push({ backend: "b", model: "m", status: 200, latencyMs: 1 });
    await hooks.settle.promise(cut);
    expect(await validate(user({ body: body(900) }))).toMatchObject({ status: 429 });
  });

  it("refuses a request that could never fit the token limit, without a retry delay", async () => {
    const { validate } = await step({ rules: [{ by: "key", tokens: { limit: 100, window: "1m" } }] });
    const refusal = (await validate(user({ body: body(4000) }))) as GatewayError;
    expect(refusal).toMatchObject({ status: 429, code: "request_too_large" });
    expect(refusal.retryAfterMs).toBeUndefined();
  });

  it("estimates from any format's output cap, choices and prompt size", () => {
    expect(estimateTokens({ max_completion_tokens: 100 }, 5)).toBe(Math.ceil(JSON.stringify({ max_completion_tokens: 100 }).length / 4) + 100);
    expect(estimateTokens({ generationConfig: { maxOutputTokens: 50 } }, 5)).toBeGreaterThan(50);
    expect(estimateTokens({ max_output_tokens: 10, n: 3 }, 5)).toBeGreaterThanOrEqual(30);
    expect(estimateTokens({}, 7)).toBe(1 + 7);
    // Routes that generate nothing (embeddings) reserve their input alone, whatever the output cap.
    expect(estimateTokens({ input: "x".repeat(40), max_tokens: 100 }, 7, false)).toBe(Math.ceil(JSON.stringify({ input: "x".repeat(40), max_tokens: 100 }).length / 4));
  });
});

describe("ratelimit concurrency", () => {
  it("holds a slot until settle releases it", async () => {
    const { hooks, validate } = await step({ rules: [{ by: "tenant", concurrent: 2 }] });
    const [a, b, c] = [user(), user(), user()];
    expect(await validate(a)).toBeUndefined();
    expect(await validate(b)).toBeUndefined();
    expect(await validate(c)).toMatchObject({ status: 429, code: "concurrency_limit_exceeded" });
    await hooks.settle.promise(a);
    expect(await validate(user())).toBeUndefined();
  });

  it("settle without a reservation (refused earlier) touches nothing", async () => {
    const { hooks, validate } = await step({ rules: [{ by: "tenant", concurrent: 1 }] });
    const a = user();
    const refused = user();
    expect(await validate(a)).toBeUndefined();
    expect(await validate(refused)).toMatchObject({ status: 429 });
    await hooks.settle.promise(refused);
    expect(await validate(user())).toMatchObject({ status: 429 });
  });
});

describe("ratelimit config", () => {
  it("rejects a rule that limits nothing at create, naming the rule", async () => {
    await expect(step({ rules: [{ id: "empty", by: "key" }] })).rejects.toThrow(/rule empty .* limits nothing/);
  });

  it("rejects bad windows and subjects at load", () => {
    expect(() => configFor(ratelimit, { rules: [{ by: "key", requests: { limit: 1, window: "5 minutes" } }] })).toThrow(/window/);
    expect(() => configFor(ratelimit, { rules: [{ by: "ip", requests: { limit: 1, window: "1m" } }] })).toThrow(/by/);
    expect(() => configFor(ratelimit, { rules: [] })).toThrow(/rules/);
  });

  it("parses windows and formats resets as OpenAI does", () => {
    expect([windowMs("1s"), windowMs("1m"), windowMs("1h"), windowMs("250ms"), windowMs(1500)]).toEqual([1000, 60000, 3600000, 250, 1500]);
    expect([formatDuration(20), formatDuration(1000), formatDuration(1500), formatDuration(360000), formatDuration(3723000)]).toEqual(["20ms", "1s", "1.5s", "6m0s", "1h2m3s"]);
  });

  it("sets no headers when told not to", async () => {
    const { validate } = await step({ headers: false, rules: [{ by: "key", requests: { limit: 5, window: "1m" } }] });
    const exchange = user();
    await validate(exchange);
    expect(Object.keys(exchange.responseHeaders)).toEqual([]);
  });
});
