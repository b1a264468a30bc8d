/**
 * `chat.completion.chunk` SSE -> IR stream events, and the cheap usage observer for streams that
 * pass through untouched.
 *
 * Failure contract (shared by every format's decoder): `push` and `end` throw nothing but a
 * GatewayError — 502 `upstream_error` with failure `stream` for malformed JSON, a chunk of the
 * wrong shape or a stream cut short; the upstream's own status-like error for an in-stream error
 * event. The caller catches it and ends the client stream with `encoder.error(err)`. After a
 * throw the decoder ignores further input.
 */
import type { IrStreamEvent, IrUsage, SseEvent, StreamDecoder, StreamObserver } from "../../core/index.js";
import { GatewayError } from "../../core/index.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { finishReasonToIr, usageToIr } from "./response.js";
import { isObject } from "../../core/index.js";

export class OpenAiChatStreamDecoder implements StreamDecoder {
  private started = false;
  private finished = false;
  private done = false;
  private failed = false;

  constructor(private readonly emit: (event: IrStreamEvent) => void) {}

  push(event: SseEvent): void {
    if (this.failed || this.done) return;
    try {
      this.read(event);
    } catch (err) {
      this.failed = true;
      throw err instanceof GatewayError ? err : malformedUpstream("unreadable chunk", true);
    }
  }

  end(): void {
    if (this.failed) return;
    if (!this.finished) {
      this.failed = true;
      // `[DONE]` without a finish reason comes from lenient servers; a stream with neither was cut short.
      if (!this.done) throw malformedUpstream("stream ended before a finish_reason", true);
      this.emit({ type: "finish", finishReason: "stop" });
    }
  }

  private read(event: SseEvent): void {
    const data = event.data.trim();
    if (data === "[DONE]") {
      this.done = true;
      return;
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw malformedUpstream("chunk is not JSON", true);
    }
    if (!isObject(chunk)) throw malformedUpstream("chunk is not a JSON object", true);
    if (chunk.error != null) throw upstreamError(chunk.error, true);
    if (chunk.choices !== undefined && chunk.choices !== null && !Array.isArray(chunk.choices)) throw malformedUpstream("choices is not an array", true);
    // Azure opens with an anonymous `choices: []` chunk of prompt filter results: not the start yet.
    const anonymous = (chunk.id === "" || chunk.id === undefined) && (!Array.isArray(chunk.choices) || chunk.choices.length === 0);
    if (!this.started && !(anonymous && chunk.usage == null)) {
      this.started = true;
      this.emit({
        type: "start",
        id: typeof chunk.id === "string" ? chunk.id : "",
        model: typeof chunk.model === "string" ? chunk.model : "",
        ...(typeof chunk.created === "number" && chunk.created > 0 ? { created: chunk.created } : {}),
      });
    }
    for (const choice of (chunk.choices as unknown[] | undefined) ?? []) {
      if (!isObject(choice)) throw malformedUpstream("choice is not an object", true);
      // Only the first choice crosses formats (n > 1 is a same-format passthrough feature).
      if (choice.index !== undefined && choice.index !== 0) continue;
      if (isObject(choice.delta)) this.readDelta(choice.delta);
      if (choice.finish_reason != null && !this.finished) {
        this.finished = true;
        this.emit({ type: "finish", finishReason: finishReasonToIr(choice.finish_reason) });
      }
    }
    const usage = usageToIr(chunk.usage);
    if (usage !== undefined) this.emit({ type: "usage", usage });
  }

  private readDelta(delta: Record<string, unknown>): void {
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === "string" && reasoning.length > 0) this.emit({ type: "thinking", text: reasoning });
    if (typeof delta.content === "string" && delta.content.length > 0) this.emit({ type: "text", text: delta.content });
    if (typeof delta.refusal === "string" && delta.refusal.length > 0) this.emit({ type: "text", text: delta.refusal });
    if (delta.tool_calls == null) return;
    if (!Array.isArray(delta.tool_calls)) throw malformedUpstream("tool_calls is not an array", true);
    for (const call of delta.tool_calls) {
      if (!isObject(call) || typeof call.index !== "number") throw malformedUpstream("tool call delta without index", true);
      const fn = isObject(call.function) ? call.function : {};
      this.emit({
        type: "tool_call",
        index: call.index,
        ...(typeof call.id === "string" ? { id: call.id } : {}),
        ...(typeof fn.name === "string" ? { name: fn.name } : {}),
        argumentsDelta: typeof fn.arguments === "string" ? fn.arguments : "",
      });
    }
  }
}

/** Reads usage from a passed-through stream; parses only chunks that carry a usage object. */
export class OpenAiChatUsageObserver implements StreamObserver {
  usage: IrUsage | undefined;
  /**
   * The gateway always asks upstream for usage (for cost and records); a client that did not ask
   * must not get the extra `choices: []` chunk, which code reading `choices[0]` trips over.
   */
  readonly filters: boolean;

  constructor(clientBody: Record<string, unknown>) {
    const options = clientBody.stream_options;
    this.filters = !(isObject(options) && options.include_usage === true);
  }

  push(event: SseEvent): boolean {
    // With include_usage every chunk says `"usage":null`; only the real one names prompt_tokens.
    if (!event.data.includes('"prompt_tokens"')) return true;
    try {
      const chunk: unknown = JSON.parse(event.data);
      if (!isObject(chunk)) return true;
      const usage = usageToIr(chunk.usage);
      if (usage !== undefined) this.usage = usage;
      const usageOnly = Array.isArray(chunk.choices) && chunk.choices.length === 0;
      return !(this.filters && usageOnly);
    } catch {
      // A malformed chunk is the client's to see; the observer only loses this reading.
      return true;
    }
  }
}
