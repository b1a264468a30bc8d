/** The loggers the gateway makes: pino's JSON lines on stderr, and a silent one for tests and `check`. */
import { pino, destination, stdTimeFunctions } from "pino";
import type { Logger } from "../core/index.js";

export function createLogger(level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: undefined, timestamp: stdTimeFunctions.isoTime }, destination({ fd: 2, sync: false }));
}

/** A logger that drops everything: for tests and `check`. */
export const silentLogger: Logger = pino({ level: "silent" });
