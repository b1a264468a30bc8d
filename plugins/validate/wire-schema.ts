/**
 * A wire format's JSON Schema compiled into a request check whose failures read like OpenAI's
 * own: `param` names the field the way clients write it (`messages[2].content[0].text`) and the
 * message says what is wrong with it. Shared by every format's validator.
 */
import { Ajv, type ErrorObject } from "ajv";
import { GatewayError, type JsonSchema } from "../../core/index.js";

/** Names validate as the source of its errors, for logs and records. */
const SOURCE = "validate";

/** A 400 about one request field. */
export function invalidField(message: string, param: string | undefined, code = "invalid_value"): GatewayError {
  return new GatewayError({ status: 400, type: "invalid_request", code, message, param, source: SOURCE });
}

/** Checks one parsed request body; returns the first problem, or undefined when the body is fine. */
/** Limits from the step's config that format rules apply. */
export interface ValidationLimits {
  /** Most choices (`n`) a request may ask for. */
  maxN: number;
}

export type RequestCheck = (body: Record<string, unknown>) => GatewayError | undefined;

// Not the config ajv of lib/schema/check-config.ts, on purpose: that one checks our own files and
// fills defaults into them, while this one checks a client's body, which is forwarded as sent.
// strict: false because wire schemas describe someone else's API, not our config: they use
// discriminators and leave properties open. verbose: errors carry their schema and data, which
// the messages below quote (allowed values, both bounds, what was sent). allErrors: false because
// a 400 names one field, so checking stops at the first.
const ajv = new Ajv({ strict: false, discriminator: true, verbose: true, allErrors: false });

export function compileWireSchema(schema: JsonSchema): RequestCheck {
  const validate = ajv.compile(schema);
  return (body) => {
    if (validate(body)) return undefined;
    const error = validate.errors?.[0];
    return error ? describeError(error, schema) : invalidField("the request body is not valid", undefined);
  };
}

/** `/messages/2/content/0` -> `messages[2].content[0]`. */
export function paramOf(instancePath: string): string {
  let param = "";
  for (const raw of instancePath.split("/").slice(1)) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    param += /^\d+$/.test(segment) ? `[${segment}]` : param === "" ? segment : `.${segment}`;
  }
  return param;
}

function child(param: string, name: string): string {
  return param === "" ? name : `${param}.${name}`;
}

function describeError(e: ErrorObject, root: JsonSchema): GatewayError {
  const p = e.params as Record<string, unknown>;
  const param = paramOf(e.instancePath);
  const subject = param === "" ? "the request body" : param;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const invalid = (message: string, at = param, code = "invalid_value") => invalidField(message, at || undefined, code);

  switch (e.keyword) {
    case "required": {
      const field = child(param, String(p.missingProperty));
      return invalid(`${field} is required`, field, "missing_required_parameter");
    }
    case "type":
      return invalid(`${subject} must be ${typeNames(p.type)}${got(e.data)}`, param, "invalid_type");
    case "discriminator": {
      const field = child(param, String(p.tag));
      if (p.error === "tag") {
        return p.tagValue === undefined
          ? invalid(`${field} is required`, field, "missing_required_parameter")
          : invalid(`${field} must be a string${got(p.tagValue)}`, field, "invalid_type");
      }
      const allowed = discriminatorValues(parent, root, String(p.tag));
      return invalid(`${field} must be one of ${allowed.map((v) => `"${v}"`).join(", ")}${got(p.tagValue)}`, field);
    }
    case "enum":
      return invalid(`${subject} must be one of ${(p.allowedValues as unknown[]).filter((v) => v !== null).map((v) => JSON.stringify(v)).join(", ")}${got(e.data)}`);
    case "const":
      return invalid(`${subject} must be ${JSON.stringify(p.allowedValue)}${got(e.data)}`);
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return invalid(`${subject} ${rangeOf(parent)}${got(e.data)}`);
    case "minItems":
      return invalid(p.limit === 1 ? `${subject} must not be empty` : `${subject} must have at least ${String(p.limit)} items`);
    case "maxItems":
      return invalid(`${subject} must have at most ${String(p.limit)} items`);
    case "minLength":
      return invalid(p.limit === 1 ? `${subject} must not be empty` : `${subject} must be at least ${String(p.limit)} characters`);
    case "maxLength":
      return invalid(`${subject} must be at most ${String(p.limit)} characters`);
    case "maxProperties":
      return invalid(`${subject} must have at most ${String(p.limit)} entries`);
    case "propertyNames":
      return invalid(`${subject} has an invalid key "${String(p.propertyName)}"`);
    case "pattern":
      return invalid(
        p.pattern === "^[a-zA-Z0-9_-]{1,64}$"
          ? `${subject} must be 1 to 64 letters, digits, underscores or dashes${got(e.data)}`
          : `${subject} must match ${String(p.pattern)}`,
      );
    default:
      return invalid(`${subject} ${e.message ?? "is not valid"}`);
  }
}

const ARTICLES: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
  null: "null",
};

function typeNames(types: unknown): string {
  const list = (Array.isArray(types) ? types : String(types).split(",")).filter((t) => t !== "null");
  return list.map((t) => ARTICLES[t] ?? t).join(" or ");
}

/** " (got 3)" for short scalars; nothing for long text or structures (no echo of prompt content). */
function got(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null) return ` (got ${String(value)})`;
  if (typeof value === "string" && value.length <= 40) return ` (got ${JSON.stringify(value)})`;
  if (Array.isArray(value)) return " (got an array)";
  if (typeof value === "object") return " (got an object)";
  return "";
}

function rangeOf(schema: Record<string, unknown>): string {
  const min = schema.minimum ?? schema.exclusiveMinimum;
  const max = schema.maximum ?? schema.exclusiveMaximum;
  const isInteger = schema.type === "integer" || (Array.isArray(schema.type) && schema.type.includes("integer"));
  if (min !== undefined && max !== undefined) return `must be between ${String(min)} and ${String(max)}`;
  if (min !== undefined) {
    if (isInteger && min === 1) return "must be a positive integer";
    return schema.exclusiveMinimum !== undefined ? `must be greater than ${String(min)}` : `must be at least ${String(min)}`;
  }
  return schema.exclusiveMaximum !== undefined ? `must be less than ${String(max)}` : `must be at most ${String(max)}`;
}

/** The tag values a discriminated `oneOf` accepts, following local `#/definitions/...` refs. */
function discriminatorValues(schema: Record<string, unknown>, root: JsonSchema, tag: string): string[] {
  const values: string[] = [];
  for (const branch of (schema.oneOf as Array<Record<string, unknown>> | undefined) ?? []) {
    const resolved = typeof branch.$ref === "string" ? resolveLocalRef(root, branch.$ref) : branch;
    const prop = (resolved?.properties as Record<string, Record<string, unknown>> | undefined)?.[tag];
    if (prop?.const !== undefined) values.push(String(prop.const));
    else if (Array.isArray(prop?.enum)) values.push(...prop.enum.map(String));
  }
  return values;
}

function resolveLocalRef(root: JsonSchema, ref: string): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const key of ref.replace(/^#\//, "").split("/")) node = (node as Record<string, unknown> | undefined)?.[key];
  return node as Record<string, unknown> | undefined;
}
