/**
 * The one place ajv is configured for config checks: strict schemas, defaults applied, no type
 * coercion, all errors reported. Used for pipeline files and for every plugin's config.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { JsonSchema } from "../../core/index.js";

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on `.default`.
const addFormats = (addFormatsModule as unknown as { default: typeof addFormatsModule }).default ?? addFormatsModule;

export function createAjv(): Ajv {
  const ajv = new Ajv({ strict: true, useDefaults: true, coerceTypes: false, allErrors: true, allowUnionTypes: true });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

export interface ConfigIssue {
  /** JSON pointer into the config, e.g. `/fallback/maxAttempts` ("" for the root). */
  pointer: string;
  message: string;
}

export type ConfigCheck<C> = { ok: true; value: C } | { ok: false; issues: ConfigIssue[] };

const shared = createAjv();
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/** Validates (and fills defaults into a copy of) `config` against `schema`. */
export function checkConfig<C>(schema: JsonSchema, config: unknown): ConfigCheck<C> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = shared.compile(schema);
    compiled.set(schema, validate);
  }
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
