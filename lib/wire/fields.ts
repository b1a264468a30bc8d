/**
 * Reading a client's (or an upstream's) JSON body field by field: each reader returns the value or
 * throws a 400 GatewayError naming the field (`messages[2].content`) when it is wrong. `null`
 * counts as absent, as the OpenAI API treats it. Shared by every format translator, so the
 * message for a wrong field reads the same whatever the API.
 */
import { GatewayError, isObject, type WireObject } from "../../core/index.js";

export function invalidField(param: string, message: string): GatewayError {
  return GatewayError.invalidRequest(`${param}: ${message}`, param);
}

export function unsupportedField(param: string, message: string): GatewayError {
  return GatewayError.invalidRequest(`${param}: ${message}`, param, "unsupported_content");
}

export function expectObject(value: unknown, param: string): WireObject {
  if (!isObject(value)) throw invalidField(param, "must be an object");
  return value;
}

export function expectArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) throw invalidField(param, "must be an array");
  return value;
}

export function expectString(value: unknown, param: string): string {
  if (typeof value !== "string") throw invalidField(param, "must be a string");
  return value;
}

export function optString(obj: WireObject, key: string, param = key): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  return expectString(v, param);
}

export function optNumber(obj: WireObject, key: string, param = key): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalidField(param, "must be a number");
  return v;
}

export function optInteger(obj: WireObject, key: string, min: number, param = key): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalidField(param, "must be an integer");
  if (v < min) throw invalidField(param, `must be at least ${min}`);
  return v;
}

export function optBoolean(obj: WireObject, key: string, param = key): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw invalidField(param, "must be a boolean");
  return v;
}

export function optStringRecord(obj: WireObject, key: string, param = key): Record<string, string> | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const record = expectObject(v, param);
  for (const [k, value] of Object.entries(record)) expectString(value, `${param}.${k}`);
  return record as Record<string, string>;
}

/** A string or an array of strings, as one array (OpenAI `stop`). */
export function optStringList(obj: WireObject, key: string, param = key): string[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return [v];
  return expectArray(v, param).map((s, i) => expectString(s, `${param}[${i}]`));
}
