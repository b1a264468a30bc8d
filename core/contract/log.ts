/**
 * What plugins log through (pino's interface; lib/log.ts makes the loggers). Secrets never reach a
 * log line: the loader registers every resolved secret value and `redactSecrets` scrubs strings
 * before they are logged or shown.
 */
import type { Logger as PinoLogger } from "pino";

export type Logger = Pick<PinoLogger, "debug" | "info" | "warn" | "error" | "child">;

const secretValues = new Set<string>();

/** Remember a secret so it can be scrubbed from any text that leaves the process. */
export function registerSecret(value: string): void {
  if (value.length >= 4) secretValues.add(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const s of secretValues) if (out.includes(s)) out = out.split(s).join("[redacted]");
  return out;
}
