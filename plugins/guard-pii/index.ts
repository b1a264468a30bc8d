/**
 * guard-pii: personal data and secrets in prompt text are redacted before anything goes
 * upstream, or the request is blocked, or its record is tagged. The body is walked generically
 * (every string under the prompt fields of any format), so one step serves every client format.
 */
import { definePlugin, GatewayError, isObject, type Exchange } from "../../core/index.js";
import type { GuardPiiConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { detectPii, PII_KINDS, type PiiKind } from "./detectors.js";

const PLUGIN = "guard-pii";

/** Keys whose strings are identifiers, signatures or binary payloads, never prompt text. */
const SKIPPED_KEYS = new Set([
  "type", "role", "id", "name", "tool_call_id", "tool_use_id", "call_id", "signature", "thoughtSignature", "encrypted_content",
  "data", "image_url", "inline_data", "inlineData", "file_data", "fileData", "file_id", "mime_type", "mimeType", "media_type",
  "cache_control", "model", "format",
]);

export type PiiCounts = Partial<Record<PiiKind, number>>;

/** Redacts (or only counts, when `redact` is false) every match in `value`; returns the same object when nothing changed. */
export function scanValue(value: unknown, kinds: readonly PiiKind[], counts: PiiCounts, redact: boolean): unknown {
  if (typeof value === "string") {
    if (value.startsWith("data:")) return value;
    const matches = detectPii(value, kinds);
    if (matches.length === 0) return value;
    let out = "";
    let at = 0;
    for (const m of matches) {
      counts[m.kind] = (counts[m.kind] ?? 0) + 1;
      out += value.slice(at, m.start) + `[REDACTED:${m.kind.toUpperCase()}]`;
      at = m.end;
    }
    return redact ? out + value.slice(at) : value;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = scanValue(item, kinds, counts, redact);
      if (next !== item) (copy ??= [...value])[i] = next;
    });
    return copy ?? value;
  }
  if (isObject(value)) {
    let copy: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(value)) {
      if (SKIPPED_KEYS.has(key)) continue;
      const next = scanValue(item, kinds, counts, redact);
      if (next !== item) (copy ??= { ...value })[key] = next;
    }
    return copy ?? value;
  }
  return value;
}

/** Kinds in their fixed order, so notes and messages read the same for the same findings. */
const kindsIn = (counts: PiiCounts) => PII_KINDS.filter((kind) => counts[kind] !== undefined);
const describeCounts = (counts: PiiCounts) => kindsIn(counts).map((kind) => `${kind}=${counts[kind]}`).join(" ");

export default definePlugin<GuardPiiConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Redacts, blocks or tags personal data and secrets (emails, phones, cards, IBANs, national ids, API keys) in prompt text",
  configSchema,
  create(config) {
    const mode = config.mode ?? "redact";
    const kinds = (config.kinds ?? PII_KINDS) as PiiKind[];
    const fields = config.fields ?? ["messages", "input", "contents", "system", "systemInstruction", "system_instruction", "instructions", "prompt"];

    function inspect(exchange: Exchange): GatewayError | undefined {
      const counts: PiiCounts = {};
      let body: Record<string, unknown> | undefined;
      for (const field of fields) {
        const value = exchange.body[field];
        if (value === undefined) continue;
        const next = scanValue(value, kinds, counts, mode === "redact");
        if (next !== value) (body ??= { ...exchange.body })[field] = next;
      }
      const found = kindsIn(counts);
      if (found.length === 0) return undefined;
      if (mode === "block") {
        exchange.notes.push(`${PLUGIN}: blocked ${describeCounts(counts)}`);
        return new GatewayError({
          status: 400,
          type: "invalid_request",
          code: "pii_detected",
          message: `The request contains personal data or secrets (${found.join(", ")}); remove them and try again.`,
          source: PLUGIN,
        });
      }
      if (body) exchange.body = body;
      exchange.notes.push(`${PLUGIN}: ${mode === "redact" ? "redacted" : "found"} ${describeCounts(counts)}`);
      return undefined;
    }

    return {
      apply(hooks) {
        hooks.validate.tapPromise(PLUGIN, async (exchange) => inspect(exchange));
      },
    };
  },
});
