import { describe, expect, it } from "vitest";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { RecentEvents } from "../../../plugins/mcp-gateway/recent-events.js";

const note = (n: number): JSONRPCMessage => ({ jsonrpc: "2.0", method: "notifications/message", params: { n } });

async function replay(store: RecentEvents, after: string): Promise<number[]> {
  const seen: number[] = [];
  await store.replayEventsAfter(after, { send: async (_id, m) => void seen.push((m as unknown as { params: { n: number } }).params.n) });
  return seen;
}

describe("RecentEvents: the bounded event store behind Last-Event-ID", () => {
  it("replays the events after a cursor, of that stream only, skipping the SDK's empty priming event", async () => {
    const store = new RecentEvents(10, 4);
    const priming = await store.storeEvent("_GET_stream", {} as JSONRPCMessage);
    const first = await store.storeEvent("_GET_stream", note(1));
    await store.storeEvent("other", note(99));
    await store.storeEvent("_GET_stream", note(2));
    await store.storeEvent("_GET_stream", note(3));
    expect(await store.getStreamIdForEventId(first)).toBe("_GET_stream");
    expect(await replay(store, priming)).toEqual([1, 2, 3]);
    expect(await replay(store, first)).toEqual([2, 3]);
  });

  it("keeps only the last events of a stream and the most recent streams", async () => {
    const store = new RecentEvents(3, 2);
    const first = await store.storeEvent("a", note(1));
    for (let n = 2; n <= 6; n++) await store.storeEvent("a", note(n));
    expect(await replay(store, first)).toEqual([4, 5, 6]);
    const b = await store.storeEvent("b", note(1));
    await store.storeEvent("c", note(1));
    // Three streams with room for two: the oldest is forgotten, and its cursors with it.
    expect(await store.getStreamIdForEventId(first)).toBeUndefined();
    expect(await store.getStreamIdForEventId(b)).toBe("b");
    await expect(replay(store, first)).rejects.toThrow();
  });

  it("forgets the least recently written stream, never the session's GET stream", async () => {
    const store = new RecentEvents(3, 2);
    const standalone = await store.storeEvent("_GET_stream", note(1));
    const a = await store.storeEvent("a", note(1));
    await store.storeEvent("_GET_stream", note(2));
    await store.storeEvent("b", note(1));
    expect(await store.getStreamIdForEventId(a)).toBeUndefined();
    for (const id of ["c", "d", "e"]) await store.storeEvent(id, note(1));
    expect(await replay(store, standalone)).toEqual([2]);
  });
});
