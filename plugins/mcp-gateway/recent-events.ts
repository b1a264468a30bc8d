/**
 * The SDK transport's event store, bounded: the last `perStream` events of each of the session's
 * `streams` most recently written streams (the GET stream always among them: it lives as long as
 * the session, while each POST answered as SSE opens one of its own), so a client that reconnects
 * with Last-Event-ID gets what it missed while a session's memory stays flat however long it
 * lives. A cursor older than what is kept replays from the oldest event still held; a stream no
 * longer held is refused by the transport (400).
 */
import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

interface StreamEvents {
  seq: number;
  events: { seq: number; message: JSONRPCMessage }[];
}

/** Separates the stream id from the sequence number in an event id (stream ids are UUIDs or `_GET_stream`). */
const SEP = "|";
/** The SDK's id for the session's GET stream. */
const STANDALONE = "_GET_stream";

export class RecentEvents implements EventStore {
  private readonly byStream = new Map<string, StreamEvents>();

  constructor(private readonly perStream: number, private readonly streams: number) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    let stream = this.byStream.get(streamId);
    // Re-inserted on every write: the map's order is then least recently written first.
    if (stream !== undefined) this.byStream.delete(streamId);
    stream ??= { seq: 0, events: [] };
    this.byStream.set(streamId, stream);
    if (this.byStream.size > this.streams) {
      for (const id of this.byStream.keys()) {
        if (id === STANDALONE) continue;
        this.byStream.delete(id);
        break;
      }
    }
    stream.seq += 1;
    stream.events.push({ seq: stream.seq, message });
    if (stream.events.length > this.perStream) stream.events.shift();
    return `${streamId}${SEP}${stream.seq}`;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    const streamId = eventId.slice(0, eventId.lastIndexOf(SEP));
    return this.byStream.has(streamId) ? streamId : undefined;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const at = lastEventId.lastIndexOf(SEP);
    const streamId = lastEventId.slice(0, at);
    const after = Number(lastEventId.slice(at + 1));
    const stream = this.byStream.get(streamId);
    if (stream === undefined || !Number.isInteger(after)) throw new Error("unknown event id");
    for (const event of stream.events) {
      // The SDK's priming event ({}) only hands the client its first cursor: nothing to replay.
      if (event.seq > after && Object.keys(event.message).length > 0) await send(`${streamId}${SEP}${event.seq}`, event.message);
    }
    return streamId;
  }
}
