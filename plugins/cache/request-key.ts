/**
 * What identifies an answer: a SHA-256 over the request in IR, written as canonical JSON (keys
 * sorted, absent fields absent), so key order, the client's API and fields that do not change the
 * answer never split one question into two entries.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { IrRequest } from "../../core/index.js";

/**
 * IR fields that do not determine the answer: who asks (`user`, `metadata`), how it is delivered
 * (`stream`, `streamUsage`), and the model, which the key takes after aliasing instead.
 */
const NOT_PART_OF_THE_QUESTION = new Set(["model", "stream", "streamUsage", "user", "metadata"]);
/**
 * Wire fields a format keeps in `extra` that only label or route the request (OpenAI `store`,
 * `service_tier`, `prompt_cache_key`, `safety_identifier`; request ids). Everything else in `extra`
 * is part of the question: `previous_response_id` and `conversation` carry history the IR does not.
 */
const LABEL_EXTRAS = new Set(["store", "service_tier", "prompt_cache_key", "safety_identifier", "request_id"]);
/** Anthropic-style prompt caching marks say how the upstream may bill the prompt, not what it answers. */
const CACHE_MARK = "cacheControl";

/** The cache key of `ir` asked of `model` (the backend's name for it, after aliasing). */
export function requestKey(ir: IrRequest, model: string): string {
  const question: Record<string, unknown> = { model };
  for (const field in ir) {
    if (NOT_PART_OF_THE_QUESTION.has(field)) continue;
    const value = (ir as unknown as Record<string, unknown>)[field];
    question[field] = field === "extra" && value !== undefined ? withoutLabels(value as Record<string, unknown>) : value;
  }
  return createHash("sha256").update(canonicalJson(question)).digest("base64url");
}

function withoutLabels(extra: Record<string, unknown>): Record<string, unknown> | undefined {
  const kept: Record<string, unknown> = {};
  let any = false;
  for (const name in extra) {
    if (LABEL_EXTRAS.has(name)) continue;
    kept[name] = extra[name];
    any = true;
  }
  return any ? kept : undefined;
}

/** JSON with object keys sorted at every depth, undefined members and prompt caching marks left out. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined || key === CACHE_MARK) continue;
      members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
    }
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The client's `cache-control` request directives this step honours (RFC 9111 §5.2.1). */
export interface ClientDirectives {
  /** no-cache: do not answer from the cache (the answer may still be stored). */
  lookup: boolean;
  /** no-store: neither answer from nor store into the cache. */
  store: boolean;
}

export function clientDirectives(headers: IncomingHttpHeaders): ClientDirectives {
  const header = headers["cache-control"];
  if (header === undefined) return { lookup: true, store: true };
  const directives = new Set(String(header).toLowerCase().split(",").map((d) => d.trim().split("=")[0]));
  const noStore = directives.has("no-store");
  return { lookup: !noStore && !directives.has("no-cache"), store: !noStore };
}
