/**
 * An upstream's mid-stream error event may echo the upstream key (or an internal address) in any
 * field: message, code, type, status, param. Neither the translated path (stream decoder) nor the
 * passthrough path (stream observer) may hand such an event on as it came: both end the stream
 * with the client format's own error event, built from scrubbed fields.
 */
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/index.js";
import { registerSecret } from "../../../core/contract/log.js";
import { FORMATS } from "./format-cases.js";
import { decodeSseError, sseEvents } from "./stream-support.js";

// Key-shaped, and a registered pipeline secret that has no key shape at all.
const KEY_SHAPED = "sk-proj-LEAKED0123456789";
const REGISTERED = "backend-secret-9f8e7d6c";
registerSecret(REGISTERED);

function leakyError(secret: string) {
  return { message: `bad key ${secret}`, type: secret, code: secret, status: secret, param: secret };
}

/** The error event each format's upstream sends mid-stream, carrying `secret` in every field. */
const ERROR_EVENTS: Record<string, (secret: string) => string> = {
  "openai-chat": (s) => `data: ${JSON.stringify({ error: leakyError(s) })}\n\n`,
  "anthropic-messages": (s) => `event: error\ndata: ${JSON.stringify({ type: "error", error: leakyError(s) })}\n\n`,
  gemini: (s) => `data: ${JSON.stringify({ error: leakyError(s) })}\n\n`,
  "openai-responses": (s) => `event: error\ndata: ${JSON.stringify({ ...leakyError(s), type: "error" })}\n\n`,
};

/** What the client gets: the format's own error event for `err`, as written. */
function rendered(format: (typeof FORMATS)[number], err: GatewayError): string {
  let out = "";
  format.translator.createStreamEncoder({ model: "m", messages: [], stream: true }, (t) => (out += t)).error(err);
  return out;
}

describe("mid-stream upstream error events never carry an upstream secret to the client", () => {
  for (const c of FORMATS) {
    for (const secret of [KEY_SHAPED, REGISTERED]) {
      const sse = ERROR_EVENTS[c.translator.format]!(secret);
      const shape = secret === KEY_SHAPED ? "a key-shaped secret" : "a registered secret";

      it(`${c.translator.format}: translated, ${shape} in every field is scrubbed`, () => {
        const { error } = decodeSseError(c.translator, sse);
        expect(error).toBeInstanceOf(GatewayError);
        const err = error as GatewayError;
        expect(JSON.stringify({ message: err.message, code: err.code, param: err.param })).not.toContain(secret);
        expect(rendered(c, err)).not.toContain(secret);
      });

      it(`${c.translator.format}: passed through, the event is replaced by a scrubbed one`, () => {
        const observer = c.translator.createStreamObserver({ stream: true });
        let thrown: unknown;
        try {
          for (const ev of sseEvents(sse)) observer.push(ev);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(GatewayError);
        const err = thrown as GatewayError;
        expect(err.failure).toBe("stream");
        expect(JSON.stringify({ message: err.message, code: err.code, param: err.param })).not.toContain(secret);
        expect(rendered(c, err)).not.toContain(secret);
      });
    }
  }

  for (const c of FORMATS) {
    it(`${c.translator.format}: an upstream event name echoed in a "malformed stream" error is scrubbed`, () => {
      const { error } = decodeSseError(c.translator, `event: ${KEY_SHAPED}\ndata: {not json\n\n`);
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).message).not.toContain(KEY_SHAPED);
    });
  }
});
