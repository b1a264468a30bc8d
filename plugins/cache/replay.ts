/**
 * A hit is answered through the core's own attempt loop: the plan becomes one attempt on a
 * backend of the step's own, whose provider "speaks" every client format and replies with the
 * cached answer written in the client's format, whole or as a stream. The core then writes it as
 * it writes any same-format reply (usage read, headers applied, stream relayed with backpressure),
 * and no upstream is called.
 */
import { Readable } from "node:stream";
import type { Backend, FormatRegistry, IrRequest, IrResponse, Provider, UpstreamReply } from "../../core/index.js";
import { eventsOf } from "./answer.js";

/** What the cache keeps for one request: the answer in IR, and what it cost when it was fetched. */
export interface CachedAnswer {
  response: IrResponse;
  /** The backend model that answered. */
  upstreamModel: string;
  /** USD the upstream call cost; null when its price was unknown, absent without a cost step. */
  costUsd?: number | null;
  /** Epoch ms when it was stored. */
  storedAt: number;
}

/** The one-attempt backend that replays `answer` to a client that asked `request` (in IR). */
export function replayBackend(id: string, formats: FormatRegistry, answer: CachedAnswer, request: IrRequest): Backend {
  const provider: Provider = {
    formats: formats.list(),
    async send(call): Promise<UpstreamReply> {
      const translator = formats.get(call.format)!;
      if (!call.stream) {
        const body = JSON.stringify(translator.responseFromIr(answer.response, request));
        return { status: 200, headers: { "content-type": "application/json" }, body: Readable.from([Buffer.from(body)]) };
      }
      // With usage asked for: the passthrough observer reads it, and drops the chunk a client that did not ask for it never sees.
      let text = "";
      const encoder = translator.createStreamEncoder({ ...request, stream: true, streamUsage: true }, (chunk) => (text += chunk));
      for (const event of eventsOf(answer.response)) encoder.push(event);
      encoder.end();
      return { status: 200, headers: { "content-type": "text/event-stream" }, body: Readable.from([Buffer.from(text)]) };
    },
    close: async () => {},
  };
  return { id, use: "cache", provider, models: [], modelMap: {} };
}
