/**
 * A passed-through stream parses, of a chunk of whole events, only those its observer names
 * (`eventsWanted`), and sends the rest as the upstream's bytes. Under any chunking the client must
 * get exactly the bytes, and the observer the readings, of a relay that parses every event: with
 * the usage-only chunk dropped (`kept`, a client that did not ask for usage) and without (`raw`).
 */
import { PassThrough } from "node:stream";
import type { ServerResponse } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RelayTarget, RelayWrite } from "../../../core/index.js";
import plugin from "../../../plugins/format-openai-chat/index.js";
import { relayStream } from "../../../plugins/stream-sse/relay.js";
import { cutInto, delta, eventData } from "../../support/openai-chat-stream-events.js";

const t = plugin.translator;

/** An event as an upstream may frame it: LF or CRLF, sometimes a comment line inside or between. */
const framed = fc.tuple(eventData, fc.boolean(), fc.constantFrom("", ": ping\n", ": keep-alive\n\n")).map(([data, crlf, comment]) => {
  const eol = crlf ? "\r\n" : "\n";
  return `${comment}data: ${data}${eol}${eol}`;
});
const stream = fc.tuple(fc.array(framed, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(40), { maxLength: 5 }), fc.boolean());

interface Relayed {
  bytes: string;
  usage: unknown;
  finishReason: string | undefined;
  error?: string;
}

/** Relays `chunks` through stream-sse as deliver.ts does for a passed-through stream; `selective` hands the observer's eventsWanted on. */
async function relay(chunks: Buffer[], includeUsage: boolean, selective: boolean): Promise<Relayed> {
  const observer = t.createStreamObserver(includeUsage ? { stream: true, stream_options: { include_usage: true } } : { stream: true });
  const body = new PassThrough();
  const res = new PassThrough();
  const out: Buffer[] = [];
  res.on("data", (b: Buffer) => out.push(b));
  const makeTarget = (write: RelayWrite): RelayTarget => ({
    output: observer.filters ? "kept" : "raw",
    push: (ev) => observer.push(ev),
    ...(selective ? { eventsWanted: (chunk: Buffer) => observer.eventsWanted!(chunk) } : {}),
    end: () => {},
    error: (err) => write(`data: ${JSON.stringify({ error: err.code })}\n\n`),
  });
  const done = relayStream(body, res as unknown as ServerResponse, () => {}, makeTarget, 0);
  for (const chunk of chunks) body.write(chunk);
  body.end();
  const result = await done;
  await new Promise((resolve) => setImmediate(resolve));
  return { bytes: Buffer.concat(out).toString("latin1"), usage: observer.usage, finishReason: observer.finishReason, ...(result.ok ? {} : { error: result.error.code }) };
}

describe("stream-sse relay: only the events an observer wants are parsed", () => {
  it("writes the same bytes and reads the same usage, finish reason and error as parsing every event", async () => {
    await fc.assert(
      fc.asyncProperty(stream, async ([events, cuts, includeUsage]) => {
        const chunks = cutInto(Buffer.from(events.join("")), cuts, 13);
        const every = await relay(chunks, includeUsage, false);
        const some = await relay(chunks, includeUsage, true);
        expect(some).toEqual(every);
      }),
      { numRuns: 300 },
    );
  });

  it("drops a client's unasked usage chunk from a chunk of whole events and sends the rest as it came", async () => {
    const usage = JSON.stringify({ id: "c1", choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    const chunk = Buffer.from([delta("a", null), delta("", "stop"), usage, "[DONE]"].map((d) => `data: ${d}\n\n`).join(""));
    const relayed = await relay([chunk], false, true);
    expect(relayed.bytes).toBe([delta("a", null), delta("", "stop"), "[DONE]"].map((d) => `data: ${d}\n\n`).join(""));
    expect(relayed).toMatchObject({ usage: { inputTokens: 3, outputTokens: 2 }, finishReason: "stop" });
  });
});
