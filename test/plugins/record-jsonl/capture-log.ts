import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "../../../core/index.js";

/** A real pino logger whose lines land in an array, so tests can assert what was logged. */
export function captureLog(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: "debug" }, sink), lines };
}
