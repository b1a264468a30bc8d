/**
 * The `when` DSL compiled to closures, once, at load: `all` / `any` / `not` over leaf matchers on
 * the model, path, method, tenant, a header or a value in the JSON body. A closed set on purpose:
 * no eval, no Function, nothing a pipeline file could use to run code. Globs and regexes are
 * built here so a request only runs prepared tests; a bad regex is a load error at its JSON pointer.
 * A test on a value of the wrong type (a glob on a number) simply does not match; anything that
 * throws while evaluating fails the request (fails closed) instead of skipping the step.
 */
import { isDeepStrictEqual } from "node:util";
import { GatewayError } from "../core/contract/errors.js";
import { compileGlob } from "../core/contract/glob.js";
import { isObject } from "../core/contract/json-object.js";
import { routeKey } from "./routes.js";
import type { Exchange } from "../core/contract/exchange.js";
import type { Condition } from "../core/contract/generated/pipeline.js";
import { joinPointer, parsePointer } from "./json-locations.js";
import { superLinearReason } from "./regex-safety.js";
import type { Predicate } from "../core/contract/exchange.js";

/** The keys a condition object may hold, exactly one at a time. */
export const CONDITION_KEYS = ["all", "any", "not", "model", "path", "method", "tenant", "header", "body"] as const;

/** A condition that cannot be compiled, with the JSON pointer of the offending node in the pipeline file. */
export class ConditionError extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
    this.name = "ConditionError";
  }
}

type ValueTest = (value: unknown) => boolean;

const STRING_TESTS = ["equals", "in", "glob", "prefix", "regex", "exists"];

/**
 * How a leaf's strings are tested. `/` separates segments of paths and model names (a glob's `*`
 * stays within one, issue 11 item 3) but is only a character in headers, tenants and body values;
 * a path's regexes ignore case, as the router does.
 */
interface StringRules {
  acrossSlashes: boolean;
  regexFlags: string;
}
const FREE_TEXT: StringRules = { acrossSlashes: true, regexFlags: "" };
const LEAF_RULES: Record<string, StringRules> = { model: { acrossSlashes: false, regexFlags: "" }, path: { acrossSlashes: false, regexFlags: "i" } };
const BODY_TESTS = [...STRING_TESTS, "gt", "lt"];

const leafReaders: Record<"model" | "path" | "method" | "tenant", (exchange: Exchange) => string | undefined> = {
  model: (exchange) => exchange.model,
  // The canonical path compared as the router compares it (any case, no trailing slash), so a
  // condition holds for every spelling of a path that reaches its route (issue 11, item 1).
  path: (exchange) => routeKey(exchange.inbound.path),
  method: (exchange) => exchange.route.method,
  tenant: (exchange) => exchange.tenant,
};

/**
 * Compiles `cond` (found at `pointer` in the pipeline file) for `stepId` (a step id, or `matcher NAME`). Throws a
 * ConditionError at load for a malformed condition; the predicate throws a 500 GatewayError
 * (`condition_failed`) if evaluating it fails.
 */
export function compileCondition(cond: Condition, pointer: string, stepId: string): Predicate {
  const test = compileNode(cond, pointer);
  const explainer = compileExplainer(cond, pointer);
  const failClosed = <T>(run: () => T): T => {
    try {
      return run();
    } catch (cause) {
      throw new GatewayError({
        status: 500,
        type: "internal",
        code: "condition_failed",
        message: `condition of step ${stepId} could not be evaluated`,
        source: stepId,
        cause,
      });
    }
  };
  return Object.assign((exchange: Exchange) => failClosed(() => test(exchange)), { explain: (exchange: Exchange) => failClosed(() => explainer(exchange)) });
}

type Explainer = (exchange: Exchange) => { matches: boolean; decidedBy: string };

/**
 * The same condition evaluated for `switchyard explain`: the verdict with the node that decided
 * it (the first failing part of an `all`, the first matching part of an `any`, the leaf itself).
 * Header values are not shown (they may be credentials), only whether the header was sent.
 */
function compileExplainer(cond: unknown, pointer: string): Explainer {
  const [key, spec] = Object.entries(cond as Record<string, unknown>)[0]!;
  const at = joinPointer(pointer, key);
  if (key === "all" || key === "any") {
    const parts = (spec as unknown[]).map((c, i) => compileExplainer(c, joinPointer(at, i)));
    return (exchange) => {
      for (const part of parts) {
        const verdict = part(exchange);
        if (verdict.matches === (key === "any")) return verdict;
      }
      return { matches: key === "all", decidedBy: `${at}: ${key === "all" ? "every" : "no"} condition matched` };
    };
  }
  if (key === "not") {
    const inner = compileExplainer(spec, at);
    return (exchange) => {
      const verdict = inner(exchange);
      return { matches: !verdict.matches, decidedBy: `${at}: not (${verdict.decidedBy})` };
    };
  }
  const test = compileNode(cond, pointer);
  const seen = (exchange: Exchange): string => {
    if (key === "header") return exchange.headers[(spec as { name: string }).name.toLowerCase()] === undefined ? "header absent" : "header sent";
    const value = key === "body" ? resolveBodyPointer(exchange.body, parsePointer((spec as { pointer: string }).pointer)) : leafReaders[key as keyof typeof leafReaders](exchange);
    const shown = value === undefined ? "nothing" : JSON.stringify(value);
    return `got ${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}`;
  };
  return (exchange) => {
    const matches = test(exchange);
    return { matches, decidedBy: `${at} ${JSON.stringify(spec)}: ${seen(exchange)}, ${matches ? "matched" : "did not match"}` };
  };
}

function compileNode(cond: unknown, pointer: string): Predicate {
  if (!isObject(cond)) throw new ConditionError(pointer, `a condition must be an object with one of ${CONDITION_KEYS.join(", ")}`);
  const keys = Object.keys(cond);
  const unknown = keys.find((k) => !(CONDITION_KEYS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    throw new ConditionError(joinPointer(pointer, unknown), `unknown condition "${unknown}"; expected one of ${CONDITION_KEYS.join(", ")}`);
  }
  const key = keys[0];
  if (key === undefined || keys.length > 1) {
    throw new ConditionError(pointer, `a condition holds exactly one of ${CONDITION_KEYS.join(", ")}; combine several with "all" or "any"`);
  }
  const at = joinPointer(pointer, key);
  const spec = cond[key];
  switch (key) {
    case "all":
    case "any": {
      if (!Array.isArray(spec) || spec.length === 0) throw new ConditionError(at, `"${key}" must be a non-empty array of conditions`);
      const parts = spec.map((c, i) => compileNode(c, joinPointer(at, i)));
      return key === "all" ? (exchange) => parts.every((p) => p(exchange)) : (exchange) => parts.some((p) => p(exchange));
    }
    case "not": {
      const inner = compileNode(spec, at);
      return (exchange) => !inner(exchange);
    }
    case "header": {
      if (!isObject(spec) || typeof spec.name !== "string" || spec.name === "") {
        throw new ConditionError(at, '"header" must be an object with a non-empty "name"');
      }
      const { name, ...tests } = spec;
      const headerName = name.toLowerCase();
      const test = compileTests(tests, at, STRING_TESTS);
      return (exchange) => {
        const value = exchange.headers[headerName];
        return test(Array.isArray(value) ? value.join(", ") : value);
      };
    }
    case "body": {
      if (!isObject(spec) || typeof spec.pointer !== "string" || !/^(\/.*)?$/.test(spec.pointer)) {
        throw new ConditionError(at, '"body" must be an object with a "pointer" (a JSON pointer such as /metadata/tier)');
      }
      const { pointer: bodyPointer, ...tests } = spec;
      const tokens = parsePointer(bodyPointer);
      const test = compileTests(tests, at, BODY_TESTS);
      return (exchange) => test(resolveBodyPointer(exchange.body, tokens));
    }
    default: {
      const read = leafReaders[key as keyof typeof leafReaders];
      const operands = key === "path" ? pathOperands(spec) : spec;
      const rules = LEAF_RULES[key] ?? FREE_TEXT;
      const test = typeof operands === "string" ? compileStringTest("glob", operands, at, rules) : compileTests(operands, at, STRING_TESTS, rules);
      return (exchange) => test(read(exchange));
    }
  }
}

/** An object of tests (`{ prefix: "gpt-", exists: true }`): all of them must hold. */
/** A `path` condition's strings in the form paths are compared in (see leafReaders.path). */
function pathOperands(spec: unknown): unknown {
  const key = (v: unknown): unknown => (typeof v === "string" ? routeKey(v) : Array.isArray(v) ? v.map(key) : v);
  if (!isObject(spec)) return key(spec);
  return Object.fromEntries(Object.entries(spec).map(([name, operand]) => [name, name === "regex" ? operand : key(operand)]));
}

function compileTests(spec: unknown, pointer: string, allowed: string[], rules = FREE_TEXT): ValueTest {
  if (!isObject(spec)) throw new ConditionError(pointer, `must be a string (a glob) or an object with ${allowed.join(", ")}`);
  const entries = Object.entries(spec);
  if (entries.length === 0) throw new ConditionError(pointer, `needs at least one of ${allowed.join(", ")}`);
  const tests = entries.map(([name, operand]) => {
    if (!allowed.includes(name)) throw new ConditionError(joinPointer(pointer, name), `unknown test "${name}"; expected one of ${allowed.join(", ")}`);
    return compileStringTest(name, operand, joinPointer(pointer, name), rules);
  });
  return tests.length === 1 ? (tests[0] as ValueTest) : (value) => tests.every((t) => t(value));
}

function compileStringTest(name: string, operand: unknown, pointer: string, rules: StringRules): ValueTest {
  const expect = (ok: boolean, what: string): void => {
    if (!ok) throw new ConditionError(pointer, `"${name}" must be ${what}`);
  };
  switch (name) {
    case "equals":
      return (value) => value !== undefined && isDeepStrictEqual(value, operand);
    case "in": {
      expect(Array.isArray(operand) && operand.length > 0, "a non-empty array");
      const options = operand as unknown[];
      return (value) => value !== undefined && options.some((o) => isDeepStrictEqual(value, o));
    }
    case "glob": {
      expect(typeof operand === "string", "a string");
      const match = compileGlob(operand as string, { acrossSlashes: rules.acrossSlashes });
      return (value) => typeof value === "string" && match(value);
    }
    case "prefix": {
      expect(typeof operand === "string", "a string");
      const prefix = operand as string;
      return (value) => typeof value === "string" && value.startsWith(prefix);
    }
    case "regex": {
      expect(typeof operand === "string", "a string");
      let re: RegExp;
      try {
        re = new RegExp(operand as string, rules.regexFlags);
      } catch (err) {
        throw new ConditionError(pointer, `invalid regular expression: ${(err as Error).message}`);
      }
      const slow = superLinearReason(operand as string);
      if (slow !== undefined) throw new ConditionError(pointer, `regular expression refused: ${slow}`);
      return (value) => typeof value === "string" && re.test(value);
    }
    case "exists": {
      expect(typeof operand === "boolean", "true or false");
      return operand ? (value) => value !== undefined : (value) => value === undefined;
    }
    case "gt":
    case "lt": {
      expect(typeof operand === "number" && Number.isFinite(operand), "a number");
      const limit = operand as number;
      return name === "gt" ? (value) => typeof value === "number" && value > limit : (value) => typeof value === "number" && value < limit;
    }
    default:
      throw new ConditionError(pointer, `unknown test "${name}"`);
  }
}

/** RFC 6901 evaluation; own properties only, so `/constructor` or `/__proto__` never reach a prototype. */
function resolveBodyPointer(body: unknown, tokens: string[]): unknown {
  let current = body;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (isObject(current)) {
      if (!Object.hasOwn(current, token)) return undefined;
      current = current[token];
    } else {
      return undefined;
    }
  }
  return current;
}
