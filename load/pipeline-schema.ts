/**
 * Checks a parsed pipeline file against schemas/pipeline.schema.json (defaults applied in place)
 * and turns ajv's errors into one message per mistake, each at a JSON pointer. ajv reports a
 * failed `oneOf` as the failure of every branch — nine lines for one misspelled condition — so
 * conditions are explained here against their grammar, and other `oneOf`s are collapsed into
 * one sentence naming the accepted forms.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import pipelineSchema from "../schemas/pipeline.schema.json" with { type: "json" };
import { CONDITION_KEYS } from "./conditions.js";
import { compileSchema, compileSubschema, describeAjvError } from "../lib/schema/check-config.js";
import { joinPointer, parsePointer, type PointerIssue } from "./json-locations.js";
import { isObject } from "../core/contract/json-object.js";
import type { Pipeline } from "../core/contract/generated/pipeline.js";

const validatePipeline = compileSchema<Pipeline>(pipelineSchema);
const validateHeaderMatch = compileSubschema(pipelineSchema, "/definitions/HeaderMatch");
const validateBodyMatch = compileSubschema(pipelineSchema, "/definitions/BodyMatch");
const validateStringTests = compileSubschema(pipelineSchema, "/definitions/StringMatch/oneOf/1");

/** Conditions live only in a step's `when`; everything under it is explained by `explainCondition`. */
const WHEN = /^\/steps\/(0|[1-9][0-9]*)\/when(?=\/|$)/;
const STRING_MATCHERS = new Set(["model", "path", "method", "tenant"]);
const conditionList = CONDITION_KEYS.join(", ");

/** Validates `spec` in place (filling defaults); returns every mistake found. */
export function checkPipelineSchema(spec: Record<string, unknown>): PointerIssue[] {
  fillReferencedDefaults(spec);
  if (validatePipeline(spec)) return [];
  const errors = validatePipeline.errors ?? [];
  const issues: PointerIssue[] = [];

  const whens = new Set<string>();
  for (const e of errors) {
    const when = WHEN.exec(e.instancePath)?.[0];
    if (when) whens.add(when);
  }
  for (const when of whens) {
    const index = Number(when.split("/")[2]);
    const step = (spec.steps as unknown[])[index] as Record<string, unknown>;
    explainCondition(step.when, when, issues);
  }

  const rest = errors.filter((e) => !WHEN.test(e.instancePath));
  const oneOfs = rest.filter((e) => e.keyword === "oneOf");
  const insideOneOf = (e: ErrorObject): boolean =>
    oneOfs.some((o) => e.instancePath.startsWith(o.instancePath) && e.schemaPath.startsWith(`${o.schemaPath}/`));
  for (const e of rest) {
    if (e.keyword === "propertyNames" || insideOneOf(e)) continue;
    const tagged = e.keyword === "oneOf" ? explainTaggedForm(e, valueAt(spec, e.instancePath), rest) : undefined;
    if (tagged !== undefined) issues.push(...tagged);
    else issues.push(describeSchemaError(e));
  }
  return issues;
}

function valueAt(spec: unknown, pointer: string): unknown {
  let node = spec;
  for (const token of parsePointer(pointer)) node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[token] : undefined;
  return node;
}

/**
 * A `oneOf` of object forms told apart by a constant property (the store's `kind`): "must be an
 * object, or an object" says nothing an operator can act on, so the mistake is explained against
 * the form the value names (a missing `url` for redis), or the tag's accepted values.
 */
function explainTaggedForm(e: ErrorObject, value: unknown, errors: readonly ErrorObject[]): PointerIssue[] | undefined {
  const branches = schemaNode(e.schemaPath);
  if (!Array.isArray(branches) || branches.length === 0) return undefined;
  const forms = branches as Array<{ type?: unknown; required?: unknown; properties?: Record<string, { const?: unknown }> }>;
  const tag = Array.isArray(forms[0]!.required) ? (forms[0]!.required as string[]).find((name) => forms.every((f) => Array.isArray(f.required) && f.required.includes(name) && f.properties?.[name]?.const !== undefined)) : undefined;
  if (tag === undefined || forms.some((f) => f.type !== "object")) return undefined;
  const tags = forms.map((f) => f.properties![tag]!.const);
  const accepted = tags.map((t) => JSON.stringify(t)).join(" or ");
  if (!isObject(value)) return [{ pointer: e.instancePath, message: `must be an object whose "${tag}" is ${accepted}` }];
  const chosen = tags.findIndex((t) => t === value[tag]);
  if (chosen === -1) {
    const named = value[tag] === undefined ? `missing "${tag}"` : `unknown "${tag}" ${JSON.stringify(value[tag])}`;
    return [{ pointer: value[tag] === undefined ? e.instancePath : joinPointer(e.instancePath, tag), message: `${named}: expected ${accepted}` }];
  }
  const within = `${e.schemaPath}/${chosen}/`;
  return errors.filter((b) => b.instancePath.startsWith(e.instancePath) && b.schemaPath.startsWith(within)).map(describeSchemaError);
}

function schemaNode(schemaPath: string): unknown {
  let node: unknown = pipelineSchema;
  for (const segment of schemaPath.replace(/^#\//, "").split("/")) node = (node as Record<string, unknown> | undefined)?.[segment];
  return node;
}

/**
 * ajv applies a `default` only when it sits beside the property, not inside the `$ref`'d
 * definition (limits, attempts, timeouts): fill those here so their own defaults apply too.
 */
function fillReferencedDefaults(spec: Record<string, unknown>): void {
  const definitions = pipelineSchema.definitions as Record<string, { default?: unknown }>;
  for (const [key, property] of Object.entries(pipelineSchema.properties as Record<string, { $ref?: string }>)) {
    const name = property.$ref?.replace("#/definitions/", "");
    const fallback = name === undefined ? undefined : definitions[name]?.default;
    if (spec[key] === undefined && fallback !== undefined) spec[key] = structuredClone(fallback);
  }
}

function describeSchemaError(e: ErrorObject): PointerIssue {
  if (e.propertyName !== undefined) {
    // A rule on property names (backend ids): point at the offending key.
    return { pointer: joinPointer(e.instancePath, e.propertyName), at: "key", message: `invalid name "${e.propertyName}": ${e.message ?? e.keyword}` };
  }
  if (e.keyword === "additionalProperties") {
    const name = String((e.params as { additionalProperty: unknown }).additionalProperty);
    return { pointer: joinPointer(e.instancePath, name), at: "key", message: `unknown property "${name}"` };
  }
  if (e.keyword === "oneOf") return { pointer: e.instancePath, message: `must be ${describeForms(e.schemaPath)}` };
  return describeAjvError(e);
}

/** "one of A, or B" for a `oneOf` outside conditions, read from the schema itself. */
function describeForms(schemaPath: string): string {
  const node = schemaNode(schemaPath);
  const branches = Array.isArray(node) ? (node as Record<string, unknown>[]) : [];
  const forms = branches.map((b) => {
    if (Array.isArray(b.enum)) return `one of ${b.enum.map((v) => JSON.stringify(v)).join(", ")}`;
    const range = typeof b.minimum === "number" && typeof b.maximum === "number" ? ` from ${b.minimum} to ${b.maximum}` : "";
    return `${typeof b.type === "string" ? `${/^[aeiou]/.test(b.type) ? "an" : "a"} ${b.type}` : "a value"}${range}`;
  });
  return forms.length > 0 ? forms.join(", or ") : "one of the accepted forms";
}

/** Explains why `value` at `pointer` is not a valid condition, recursively, one issue per mistake. */
function explainCondition(value: unknown, pointer: string, issues: PointerIssue[]): void {
  if (!isObject(value)) {
    issues.push({ pointer, message: `a condition must be an object with one of ${conditionList}` });
    return;
  }
  const keys = Object.keys(value);
  const known = keys.filter((k) => (CONDITION_KEYS as readonly string[]).includes(k));
  for (const key of keys) {
    if (!known.includes(key)) issues.push({ pointer: joinPointer(pointer, key), at: "key", message: `unknown condition "${key}"; expected one of ${conditionList}` });
  }
  if (keys.length === 0) issues.push({ pointer, message: `empty condition; expected one of ${conditionList}` });
  if (known.length > 1) {
    issues.push({ pointer, message: `a condition holds exactly one of ${conditionList}, found ${known.map((k) => `"${k}"`).join(" and ")}: combine them with "all" or "any"` });
  }
  for (const key of known) {
    const at = joinPointer(pointer, key);
    const spec = value[key];
    if (key === "all" || key === "any") {
      if (!Array.isArray(spec) || spec.length === 0) issues.push({ pointer: at, message: `"${key}" must be a non-empty array of conditions` });
      else spec.forEach((c, i) => explainCondition(c, joinPointer(at, i), issues));
    } else if (key === "not") {
      explainCondition(spec, at, issues);
    } else if (STRING_MATCHERS.has(key)) {
      if (typeof spec === "string") continue;
      if (!isObject(spec)) issues.push({ pointer: at, message: `"${key}" must be a string (a glob) or an object with equals, in, glob, prefix, regex, exists` });
      else issues.push(...subIssues(validateStringTests, spec, at));
    } else {
      issues.push(...subIssues(key === "header" ? validateHeaderMatch : validateBodyMatch, spec, at));
    }
  }
}

function subIssues(validate: ValidateFunction, value: unknown, pointer: string): PointerIssue[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const issue = describeSchemaError(e);
    return { ...issue, pointer: pointer + issue.pointer };
  });
}
