/**
 * The answer a client got, as text, and its digest: what `switchyard simulate --send` compares
 * between a recorded request and its replay without storing the answer itself. Record steps that
 * capture bodies keep each model request's reply (`exchange.reply`, filled by the core's JSON
 * writer and by stream-sse's relay) and store its digest; simulate digests the replay's reply the
 * same way. The text is read back with the client's own format translator: every format reads its
 * own wire both ways, replies and streams alike.
 */
import { createHash } from "node:crypto";
import type { Exchange, FormatTranslator, PipelineHooks } from "../../core/index.js";
import { SseParser } from "../wire/sse.js";

/** Keeps the reply of every model request that passes validate, for `answerDigestOf` at record time. */
export function keepReplies(hooks: PipelineHooks, tapName: string): void {
  hooks.validate.tap(tapName, (x) => {
    if (x.route.endpoint === "generate") x.reply ??= [];
    return undefined;
  });
}

/** The text of a reply in `format` (a JSON body, or an SSE stream); undefined when it holds none or cannot be read. */
export function answerText(format: FormatTranslator, reply: readonly (string | Buffer)[], stream: boolean): string | undefined {
  const whole = reply.map((part) => (typeof part === "string" ? part : part.toString("utf8"))).join("");
  try {
    if (!stream) {
      const text = format.responseToIr(JSON.parse(whole)).content.map((part) => (part.type === "text" ? part.text : "")).join("");
      return text;
    }
    let text = "";
    const decoder = format.createStreamDecoder((event) => {
      if (event.type === "text") text += event.text;
    });
    const parser = new SseParser((event) => decoder.push(event));
    parser.push(whole);
    parser.end();
    decoder.end();
    return text;
  } catch {
    return undefined;
  }
}

/** sha256 of the answer text, hex: equal answers have equal digests, and the record holds no text. */
export function digestText(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The digest of the answer the exchange's client got: only for answered model requests whose reply was kept. */
export function answerDigestOf(x: Exchange): string | undefined {
  if (x.reply === undefined || x.status !== 200 || x.error !== undefined) return undefined;
  const text = answerText(x.format, x.reply, x.stream);
  return text === undefined ? undefined : digestText(text);
}
