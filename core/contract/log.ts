/**
 * Structured logs (pino, JSON lines on stderr). Secrets never reach a log line: the loader
 * registers every resolved secret value and `redactSecrets` scrubs strings before they are logged.
 */
import { pino, destination, stdTimeFunctions, type Logger as PinoLogger } from "pino";

export type Logger = Pick<PinoLogger, "debug" | "info" | "warn" | "error" | "child">;

export function createLogger(level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: undefined, timestamp: stdTimeFunctions.isoTime }, destination({ fd: 2, sync: false }));
}

/** A logger that drops everything: for tests and `check`. */
export const silentLogger: Logger = pino({ level: "silent" });

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
