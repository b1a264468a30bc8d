/**
 * Gemini's REST API is proto3 JSON, which accepts both lowerCamelCase and snake_case field names
 * (`generationConfig` and `generation_config`): these read either.
 */
import type { WireObject } from "../../core/index.js";

/** A field by its lowerCamelCase name or its snake_case original, as proto3 JSON allows. */
export function field(obj: WireObject, camel: string): unknown {
  const value = obj[camel];
  if (value !== undefined) return value;
  return obj[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

/** The wire key `obj` used for `camel` (either casing), for reporting what was sent. */
export function keyOf(obj: WireObject, camel: string): string {
  return obj[camel] !== undefined ? camel : camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
