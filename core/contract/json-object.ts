/** The one test for "a JSON object" (not null, not an array), used by core, load, lib and plugins alike. */
export type WireObject = Record<string, unknown>;

export function isObject(value: unknown): value is WireObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
