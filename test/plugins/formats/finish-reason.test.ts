/**
 * Every format reports why an answer ended as the backend's format writes it: from a whole reply
 * (finishReasonOf), from a stream it decodes (translated) and from a stream it only observes
 * (passed through). Records, metrics and traces read this one value.
 */
import { describe, expect, it } from "vitest";
import type { FormatTranslator, SseEvent } from "../../../core/index.js";
import anthropic from "../../../plugins/format-anthropic-messages/index.js";
import bedrock from "../../../plugins/format-bedrock-converse/index.js";
import gemini from "../../../plugins/format-gemini/index.js";
import openAiChat from "../../../plugins/format-openai-chat/index.js";
import responses from "../../../plugins/format-openai-responses/index.js";
import { readFixture, readFixtureText, sseEvents } from "./stream-support.js";

function decoded(t: FormatTranslator, events: SseEvent[]): string | undefined {
  const decoder = t.createStreamDecoder(() => {});
  for (const e of events) decoder.push(e);
  decoder.end();
  return decoder.finishReason;
}

function observed(t: FormatTranslator, events: SseEvent[], clientBody: Record<string, unknown> = { stream: true }): string | undefined {
  const observer = t.createStreamObserver(clientBody);
  for (const e of events) observer.push(e);
  return observer.finishReason;
}

const cases: Array<{ t: FormatTranslator; fixtures: string; plain: Array<string | undefined>; streams: Record<string, string> }> = [
  { t: openAiChat.translator, fixtures: "openai-chat", plain: ["stop", "tool_calls", "length"], streams: { "stream-text-usage.sse": "stop", "stream-parallel-tools.sse": "tool_calls", "stream-azure-reasoning.sse": "length" } },
  { t: anthropic.translator, fixtures: "anthropic-messages", plain: ["end_turn", "tool_use", "stop_sequence"], streams: { "stream-text.sse": "max_tokens", "stream-thinking-tools.sse": "tool_use" } },
  // A prompt blocked before any candidate: the prompt's blockReason says why.
  { t: gemini.translator, fixtures: "gemini", plain: ["STOP", "STOP", "SAFETY"], streams: { "stream-text.sse": "STOP", "stream-thinking-tools.sse": "STOP" } },
  // Responses has no finish reason of its own: the status, or the reason an incomplete one gives.
  { t: responses.translator, fixtures: "openai-responses", plain: ["completed", "completed", "max_output_tokens"], streams: { "stream-text.sse": "completed", "stream-reasoning-tools.sse": "completed" } },
];

describe("finish reasons as the backend's format writes them", () => {
  for (const c of cases) {
    const replies = readFixture<Array<{ name: string; wire: unknown }>>(c.fixtures, "responses.json");
    it(`${c.t.format}: reads each whole reply's own value`, () => {
      expect(replies.map((r) => c.t.finishReasonOf?.(r.wire))).toEqual(c.plain);
    });
    for (const [file, reason] of Object.entries(c.streams)) {
      it(`${c.t.format}: the decoder and the passthrough observer both report "${reason}" for ${file}`, () => {
        const events = sseEvents(readFixtureText(c.fixtures, file));
        expect(decoded(c.t, events)).toBe(reason);
        expect(observed(c.t, events)).toBe(reason);
      });
    }
    it(`${c.t.format}: reports none for a body that is not a reply and a stream cut before its end`, () => {
      expect(c.t.finishReasonOf?.({ error: { message: "x" } })).toBeUndefined();
      expect(c.t.finishReasonOf?.("not json")).toBeUndefined();
      const events = sseEvents(readFixtureText(c.fixtures, Object.keys(c.streams)[0]!));
      expect(observed(c.t, events.slice(0, 2))).toBeUndefined();
    });
  }

  it("openai-responses: the observer reports an incomplete stream's reason after tool calls passed it", () => {
    const events = sseEvents(readFixtureText("openai-responses", "stream-reasoning-tools.sse"));
    const last = events.at(-1)!;
    const incomplete = JSON.parse(last.data) as { type: string; response: Record<string, unknown> };
    incomplete.type = "response.incomplete";
    incomplete.response.status = "incomplete";
    incomplete.response.incomplete_details = { reason: "max_output_tokens" };
    const cut = [...events.slice(0, -1), { event: "response.incomplete", data: JSON.stringify(incomplete) }];
    expect(observed(responses.translator, cut)).toBe("max_output_tokens");
    const unnamed = cut.map((e) => ({ data: e.data }));
    expect(observed(responses.translator, unnamed)).toBe("max_output_tokens");
  });

  it("openai-chat: the observer keeps choice 0's reason and skips a value that only looks like the key", () => {
    const chunk = (delta: unknown, finish: string | null) => ({ data: JSON.stringify({ id: "c", choices: [{ index: 0, delta, finish_reason: finish }] }) });
    const events = [chunk({ content: "finish_reason" }, null), chunk({ content: '"finish_reason":"stop"' }, null), chunk({}, "content_filter"), { data: "[DONE]" }];
    expect(observed(openAiChat.translator, events)).toBe("content_filter");
    expect(decoded(openAiChat.translator, events)).toBe("content_filter");
  });

  it("bedrock-converse: reads stopReason from a reply, from messageStop when decoding and when observing", () => {
    expect(bedrock.translator.finishReasonOf?.({ output: { message: { role: "assistant", content: [{ text: "hi" }] } }, stopReason: "end_turn", usage: { inputTokens: 1, outputTokens: 1 } })).toBe("end_turn");
    const events: SseEvent[] = [
      { event: "messageStart", data: JSON.stringify({ role: "assistant" }) },
      { event: "contentBlockStart", data: JSON.stringify({ contentBlockIndex: 0, start: { toolUse: { toolUseId: "t1", name: "lookup" } } }) },
      { event: "contentBlockDelta", data: JSON.stringify({ contentBlockIndex: 0, delta: { toolUse: { input: "{}" } } }) },
      { event: "contentBlockStop", data: JSON.stringify({ contentBlockIndex: 0 }) },
      { event: "messageStop", data: JSON.stringify({ stopReason: "tool_use" }) },
      { event: "metadata", data: JSON.stringify({ usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 }, metrics: { latencyMs: 5 } }) },
    ];
    expect(decoded(bedrock.translator, events)).toBe("tool_use");
    expect(observed(bedrock.translator, events)).toBe("tool_use");
  });
});
