import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { FormatTranslator, SseEvent } from "../../../core/index.js";
import { SseParser } from "../../../lib/wire/sse.js";
import anthropic from "../../../plugins/format-anthropic-messages/index.js";
import gemini from "../../../plugins/format-gemini/index.js";
import openaiChat from "../../../plugins/format-openai-chat/index.js";
import openaiResponses from "../../../plugins/format-openai-responses/index.js";
import { readFixtureText } from "./stream-support.js";

// A relay sends whole events on unparsed when the observer's needsEvents says none of them
// needs push. That is only safe when every event push would act on (drop, throw on, read usage
// from) is one needsEvents answers true for: checked here over every fixture stream, one event
// at a time, as an upstream writing each event on its own delivers them.
const FORMATS: [string, FormatTranslator][] = [
  ["openai-chat", openaiChat.translator],
  ["anthropic-messages", anthropic.translator],
  ["gemini", gemini.translator],
  ["openai-responses", openaiResponses.translator],
];

/** Each event of an SSE text, as the parser reads it and as the upstream framed it. */
function eventsOf(text: string): { event: SseEvent; bytes: Buffer }[] {
  return text
    .split(/\n\n/)
    .filter((block) => block.trim() !== "")
    .flatMap((block) => {
      const framed = `${block}\n\n`;
      const events: SseEvent[] = [];
      const parser = new SseParser((e) => events.push(e));
      parser.push(Buffer.from(framed));
      parser.end();
      return events.map((event) => ({ event, bytes: Buffer.from(framed) }));
    });
}

describe("stream observers' needsEvents", () => {
  for (const [format, translator] of FORMATS) {
    it(`${format}: says true for every fixture event its push drops, throws on or reads usage from`, () => {
      const files = readdirSync(new URL(`../../fixtures/${format}/`, import.meta.url)).filter((f) => f.endsWith(".sse"));
      expect(files.length).toBeGreaterThan(0);
      let skipped = 0;
      for (const file of files) {
        for (const { event, bytes } of eventsOf(readFixtureText(format, file))) {
          const observer = translator.createStreamObserver({});
          expect(typeof observer.needsEvents, format).toBe("function");
          if (observer.needsEvents!(bytes)) continue;
          skipped++;
          let kept: unknown;
          expect(() => (kept = observer.push(event)), `${file}: ${event.data.slice(0, 80)}`).not.toThrow();
          expect(kept, `${file}: ${event.data.slice(0, 80)}`).not.toBe(false);
          expect(observer.usage, `${file}: ${event.data.slice(0, 80)}`).toBeUndefined();
        }
      }
      // The point is to skip most events: text deltas need no parse.
      expect(skipped).toBeGreaterThan(0);
    });
  }
});
