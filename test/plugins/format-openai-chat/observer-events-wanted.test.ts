/**
 * A passed-through stream parses, of a chunk of whole events, only those the observer names
 * (`eventsWanted`): the observer must end with exactly what it reads when it sees every event.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StreamObserver } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-chat/index.js";
import { SseParser, endsOnEventBoundary, eventsAt } from "../../../lib/wire/sse.js";
import { cutInto, delta, eventData } from "../../support/openai-chat-stream-events.js";

const t = plugin.translator;

const stream = fc.tuple(fc.array(eventData, { minLength: 1, maxLength: 12 }), fc.boolean(), fc.array(fc.nat(12), { maxLength: 4 }));

/** What an observer ends with: its readings, or the error it threw (and after how many events). */
function readings(observer: StreamObserver, feed: (parser: SseParser) => void): unknown {
  const parser = new SseParser((ev) => observer.push(ev));
  try {
    feed(parser);
    parser.end();
  } catch (err) {
    return { error: String(err), usage: observer.usage, finishReason: observer.finishReason };
  }
  return { usage: observer.usage, finishReason: observer.finishReason };
}

describe("openai-chat observer: eventsWanted", () => {
  it("gives the same usage, finish reason and error as parsing every event, whatever the chunking", () => {
    fc.assert(
      fc.property(stream, ([events, crlf, cuts]) => {
        const eol = crlf ? "\r\n" : "\n";
        const text = events.map((data) => `data: ${data}${eol}${eol}`).join("");
        const chunks = cutInto(Buffer.from(text), cuts, 17);
        const every = readings(t.createStreamObserver({ stream: true, stream_options: { include_usage: true } }), (p) => chunks.forEach((c) => p.push(c)));
        const observer = t.createStreamObserver({ stream: true, stream_options: { include_usage: true } });
        const some = readings(observer, (p) => {
          for (const c of chunks) {
            if (p.idle() && endsOnEventBoundary(c)) for (const [a, b] of eventsAt(c, observer.eventsWanted!(c))) p.push(c.subarray(a, b));
            else p.push(c);
          }
        });
        expect(some).toEqual(every);
      }),
      { numRuns: 400 },
    );
  });

  it("names only the events it needs: the first finish reason, usage and errors", () => {
    const observer = t.createStreamObserver({ stream: true, stream_options: { include_usage: true } });
    const chunk = Buffer.from([delta("a", null), delta("b", "stop"), delta("c", "length"), JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } })].map((d) => `data: ${d}\n\n`).join(""));
    const spans = eventsAt(chunk, observer.eventsWanted!(chunk)).map(([a, b]) => chunk.subarray(a, b).toString());
    expect(spans).toEqual([`data: ${delta("b", "stop")}\n\n`, expect.stringContaining('"prompt_tokens":3')]);
  });
});
