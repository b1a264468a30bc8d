import { describe, expect, it } from "vitest";
import { compileCondition, ConditionError } from "../../load/conditions.js";
import { GatewayError, type Exchange } from "../../core/index.js";
import type { Condition } from "../../core/contract/generated/pipeline.js";
import { createTestExchange } from "../../testkit/index.js";

const when = (cond: unknown) => compileCondition(cond as Condition, "/steps/0/when", "guard");

const exchange = (init: Parameters<typeof createTestExchange>[0] = {}) =>
  createTestExchange({
    model: "gpt-4o-mini",
    tenant: "acme",
    headers: { "X-Tier": "free", "X-Trace": "abc-123" },
    inbound: { path: "/v1/chat/completions", params: {}, query: {} },
    body: { model: "gpt-4o-mini", metadata: { tier: "gold", "a/b": 1, "m~n": 2 }, max_tokens: 500, tags: ["x", "y"], temperature: null },
    ...init,
  });

function loadError(cond: unknown): ConditionError {
  try {
    when(cond);
  } catch (err) {
    if (err instanceof ConditionError) return err;
    throw err;
  }
  throw new Error("expected a ConditionError");
}

describe("leaf matchers", () => {
  it("a plain string is a glob over the model", () => {
    expect(when({ model: "gpt-4o*" })(exchange())).toBe(true);
    expect(when({ model: "gpt-4o" })(exchange())).toBe(false);
    expect(when({ model: "*-mini" })(exchange())).toBe(true);
    expect(when({ model: "claude-*" })(exchange())).toBe(false);
  });

  it("model tests equals, in, prefix, regex, exists", () => {
    expect(when({ model: { equals: "gpt-4o-mini" } })(exchange())).toBe(true);
    expect(when({ model: { in: ["a", "gpt-4o-mini"] } })(exchange())).toBe(true);
    expect(when({ model: { in: ["a", "b"] } })(exchange())).toBe(false);
    expect(when({ model: { prefix: "gpt-" } })(exchange())).toBe(true);
    expect(when({ model: { regex: "^gpt-\\d" } })(exchange())).toBe(true);
    expect(when({ model: { regex: "^claude" } })(exchange())).toBe(false);
    expect(when({ model: { exists: false } })(exchange({ model: undefined }))).toBe(true);
    expect(when({ model: { exists: true } })(exchange({ model: undefined }))).toBe(false);
  });

  it("every test in one object must hold", () => {
    expect(when({ model: { prefix: "gpt-", glob: "*mini" } })(exchange())).toBe(true);
    expect(when({ model: { prefix: "gpt-", glob: "*max" } })(exchange())).toBe(false);
  });

  it("path, method and tenant read the request", () => {
    expect(when({ path: "/v1/chat/*" })(exchange())).toBe(true);
    expect(when({ path: "/v1/messages" })(exchange())).toBe(false);
    expect(when({ method: "POST" })(exchange())).toBe(true);
    expect(when({ method: { in: ["GET"] } })(exchange())).toBe(false);
    expect(when({ tenant: "acme" })(exchange())).toBe(true);
    expect(when({ tenant: { exists: true } })(exchange({ tenant: undefined }))).toBe(false);
  });

  it("header names are case-insensitive", () => {
    expect(when({ header: { name: "x-tier", equals: "free" } })(exchange())).toBe(true);
    expect(when({ header: { name: "X-TIER", in: ["gold", "free"] } })(exchange())).toBe(true);
    expect(when({ header: { name: "x-trace", regex: "^abc-\\d+$" } })(exchange())).toBe(true);
    expect(when({ header: { name: "x-missing", exists: false } })(exchange())).toBe(true);
    expect(when({ header: { name: "x-missing", equals: "free" } })(exchange())).toBe(false);
  });

  it("body reads a JSON pointer, with ~1 and ~0 escapes", () => {
    expect(when({ body: { pointer: "/metadata/tier", equals: "gold" } })(exchange())).toBe(true);
    expect(when({ body: { pointer: "/metadata/a~1b", equals: 1 } })(exchange())).toBe(true);
    expect(when({ body: { pointer: "/metadata/m~0n", equals: 2 } })(exchange())).toBe(true);
    expect(when({ body: { pointer: "/tags/1", equals: "y" } })(exchange())).toBe(true);
    expect(when({ body: { pointer: "/tags", equals: ["x", "y"] } })(exchange())).toBe(true);
    expect(when({ body: { pointer: "/metadata", equals: { tier: "gold" } } })(exchange())).toBe(false);
    expect(when({ body: { pointer: "/metadata/tier", in: ["silver", "gold"] } })(exchange())).toBe(true);
  });

  it("body compares numbers with gt and lt", () => {
    expect(when({ body: { pointer: "/max_tokens", gt: 100, lt: 1000 } })(exchange())).toBe(true);
    expect(when({ body: { pointer: "/max_tokens", gt: 500 } })(exchange())).toBe(false);
    expect(when({ body: { pointer: "/max_tokens", lt: 500 } })(exchange())).toBe(false);
  });

  it("body exists distinguishes null from absent", () => {
    expect(when({ body: { pointer: "/temperature", exists: true } })(exchange())).toBe(true);
    expect(when({ body: { pointer: "/top_p", exists: false } })(exchange())).toBe(true);
    expect(when({ body: { pointer: "/tags/7", exists: true } })(exchange())).toBe(false);
    expect(when({ body: { pointer: "/metadata/tier/deeper", exists: true } })(exchange())).toBe(false);
  });

  it("never follows a pointer into the prototype chain", () => {
    expect(when({ body: { pointer: "/constructor", exists: true } })(exchange())).toBe(false);
    expect(when({ body: { pointer: "/metadata/__proto__", exists: true } })(exchange())).toBe(false);
  });

  it("a test on a value of the wrong type is no match, not an error", () => {
    expect(when({ body: { pointer: "/max_tokens", glob: "5*" } })(exchange())).toBe(false);
    expect(when({ body: { pointer: "/max_tokens", regex: "5" } })(exchange())).toBe(false);
    expect(when({ body: { pointer: "/max_tokens", prefix: "5" } })(exchange())).toBe(false);
    expect(when({ body: { pointer: "/metadata/tier", gt: 1 } })(exchange())).toBe(false);
  });
});

describe("combinators", () => {
  it("all needs every condition, any needs one, not inverts", () => {
    const gold = { body: { pointer: "/metadata/tier", equals: "gold" } };
    const claude = { model: "claude-*" };
    expect(when({ all: [gold, { model: "gpt-*" }] })(exchange())).toBe(true);
    expect(when({ all: [gold, claude] })(exchange())).toBe(false);
    expect(when({ any: [claude, gold] })(exchange())).toBe(true);
    expect(when({ any: [claude, { tenant: "other" }] })(exchange())).toBe(false);
    expect(when({ not: claude })(exchange())).toBe(true);
    expect(when({ not: { any: [claude, gold] } })(exchange())).toBe(false);
  });
});

describe("load errors", () => {
  it("a bad regex is a ConditionError at the regex's pointer", () => {
    const err = loadError({ all: [{ model: "x" }, { header: { name: "x-a", regex: "([a-z" } }] });
    expect(err.pointer).toBe("/steps/0/when/all/1/header/regex");
    expect(err.message).toMatch(/^invalid regular expression: /);
  });

  it("an unknown matcher is a ConditionError at its key", () => {
    const err = loadError({ not: { modle: "gpt-*" } });
    expect(err.pointer).toBe("/steps/0/when/not/modle");
    expect(err.message).toBe('unknown condition "modle"; expected one of all, any, not, model, path, method, tenant, header, body');
  });

  it("two matchers in one object, an empty all and an unknown test are ConditionErrors", () => {
    expect(loadError({ model: "a", path: "/b" }).pointer).toBe("/steps/0/when");
    expect(loadError({ any: [] }).pointer).toBe("/steps/0/when/any");
    expect(loadError({ model: { startsWith: "a" } }).pointer).toBe("/steps/0/when/model/startsWith");
  });
});

describe("fail closed", () => {
  it("an evaluation error throws a 500 condition_failed GatewayError naming the step", () => {
    const broken = { ...exchange(), get body(): Record<string, unknown> { throw new Error("body unreadable"); } } as Exchange;
    const predicate = when({ body: { pointer: "/metadata/tier", equals: "gold" } });
    let thrown: unknown;
    try {
      predicate(broken);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect(thrown).toMatchObject({ status: 500, type: "internal", code: "condition_failed", source: "guard", message: "condition of step guard could not be evaluated" });
  });
});
