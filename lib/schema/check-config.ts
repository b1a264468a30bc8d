/**
 * The one ajv of every config and file check: pipeline files, each plugin's config, pricing files,
 * keys files. One option set, so a schema means the same thing wherever it is checked: strict
 * schemas, defaults applied, no type coercion, every error reported, formats checked.
 */
import { isDeepStrictEqual } from "node:util";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { JsonSchema } from "../../core/index.js";
import upstreamSchema from "../../schemas/upstream.schema.json" with { type: "json" };

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on `.default`.
const addFormats = (addFormatsModule as unknown as { default: typeof addFormatsModule }).default ?? addFormatsModule;

// code.optimize off: every schema here is compiled once at start-up and checks a few files, so ajv's
// pass over the generated code (a third of compiling all ~51 plugin schemas) costs more than it saves.
const ajv = new Ajv({ strict: true, useDefaults: true, coerceTypes: false, allErrors: true, allowUnionTypes: true, code: { optimize: false } });
(addFormats as unknown as (a: Ajv) => void)(ajv);
// Fields several plugins share, described once; a plugin schema with an `$id` reaches them by a
// relative `$ref` (../../schemas/upstream.schema.json#/definitions/…) that editors follow too.
ajv.addSchema(upstreamSchema);
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/**
 * The validator of `schema`, compiled once per schema object. ajv keeps schemas by `$id`, so a
 * copy of a schema it already holds (the same file read twice) gets the validator compiled first.
 */
export function compileSchema<T = unknown>(schema: JsonSchema): ValidateFunction<T> {
  let validate = compiled.get(schema);
  if (!validate) {
    const known = typeof schema.$id === "string" ? ajv.getSchema(schema.$id) : undefined;
    validate = known && isDeepStrictEqual(known.schema, schema) ? known : ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate as ValidateFunction<T>;
}

/**
 * What a `$ref` in `schema` to another schema file points at, resolved as ajv resolves it, for
 * readers of a schema (the plugin catalog) that need the shared field's description.
 */
export function resolveFileRef(schema: JsonSchema, ref: string): JsonSchema | undefined {
  if (typeof schema.$id !== "string") return undefined;
  return ajv.getSchema(new URL(ref, schema.$id).href)?.schema as JsonSchema | undefined;
}

/** The validator of the part of `schema` at `pointer` (`/definitions/Name`); `schema` needs an `$id`. */
export function compileSubschema(schema: JsonSchema, pointer: string): ValidateFunction {
  compileSchema(schema);
  const validate = ajv.getSchema(`${String(schema.$id)}#${pointer}`);
  if (!validate) throw new Error(`schema ${String(schema.$id)} has nothing at ${pointer}`);
  return validate;
}

interface ConfigIssue {
  /** JSON pointer into the config, e.g. `/fallback/maxAttempts` ("" for the root). */
  pointer: string;
  message: string;
}

type ConfigCheck<C> = { ok: true; value: C } | { ok: false; issues: ConfigIssue[] };

/** Validates (and fills defaults into a copy of) `config` against `schema`. */
export function checkConfig<C>(schema: JsonSchema, config: unknown): ConfigCheck<C> {
  const validate = compileSchema(schema);
  const value = structuredClone(config ?? {});
  if (validate(value)) return { ok: true, value: value as C };
  return { ok: false, issues: (validate.errors ?? []).map(describeAjvError) };
}

/** An ajv error as a pointer and a sentence a person can act on. */
export function describeAjvError(e: ErrorObject): ConfigIssue {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties":
      return { pointer: `${e.instancePath}/${String(p.additionalProperty)}`, message: `unknown property "${String(p.additionalProperty)}"` };
    case "required":
      return { pointer: e.instancePath, message: `missing required property "${String(p.missingProperty)}"` };
    case "enum":
      return { pointer: e.instancePath, message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    case "type":
      return { pointer: e.instancePath, message: `must be ${String(p.type)}` };
    default:
      return { pointer: e.instancePath, message: e.message ?? e.keyword };
  }
}
