/**
 * Generators for the property tests of a passed-through OpenAI chat stream (the observer's
 * `eventsWanted`, the stream-sse relay): the events an upstream sends, and chunkings of them.
 */
import fc from "fast-check";

/** A content delta chunk, with or without a finish reason. */
export const delta = (text: string, finish: string | null) => JSON.stringify({ id: "c1", object: "chat.completion.chunk", model: "m", choices: [{ index: 0, delta: { content: text }, finish_reason: finish }] });

/** One event's data: deltas (compact, and spaced as Python writes JSON), usage-only chunks, an error, a delta whose text names the wanted keys, [DONE]. */
export const eventData = fc.oneof(
  fc.tuple(fc.string({ maxLength: 12 }), fc.constantFrom(null, "stop", "length", "tool_calls")).map(([text, finish]) => delta(text, finish)),
  // As servers that write JSON with Python's default separators send it (`"finish_reason": "stop"`).
  fc.tuple(fc.string({ maxLength: 12 }), fc.constantFrom(null, "stop", "length")).map(([text, finish]) => delta(text, finish).replaceAll('":', '": ').replaceAll(',"', ', "')),
  fc.constant('{"choices":[{"index":0,"delta":{},"finish_reason" :\t"stop"}]}'),
  fc.tuple(fc.nat(99), fc.nat(99)).map(([p, c]) => JSON.stringify({ id: "c1", choices: [], usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } })),
  fc.constant(JSON.stringify({ error: { message: "overloaded", type: "server_error" } })),
  fc.constant('{"content":"\\"error\\" and \\"prompt_tokens\\" in text","finish_reason":null}'),
  fc.constant("[DONE]"),
);

/** `whole` cut at `cuts` x `step` bytes: at event boundaries for some (upstreams write an event at a time), anywhere for others. */
export function cutInto(whole: Buffer, cuts: readonly number[], step: number): Buffer[] {
  const bounds = [...new Set(cuts.map((c) => Math.min(whole.length, c * step)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of [...bounds, whole.length]) {
    if (at > from) chunks.push(whole.subarray(from, at));
    from = Math.max(from, at);
  }
  return chunks;
}
