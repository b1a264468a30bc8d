/**
 * Anthropic SSE -> IR stream events, and the cheap usage observer for passed-through streams.
 *
 * Failure contract (shared by every format's decoder): `push` and `end` throw nothing but a
 * GatewayError — 502 `upstream_error` with failure `stream` for malformed JSON, an event of the
 * wrong shape or a stream cut short; the mapped upstream error for `event: error` (overloaded ->
 * 503, rate limit -> 429). The caller catches it and ends the client stream with
 * `encoder.error(err)`. After a throw the decoder ignores further input.
 */
import { GatewayError, type IrStreamEvent, type IrUsage, type SseEvent, type StreamDecoder, type StreamObserver } from "../../core/index.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { stopReasonToIr, usageToIr } from "./response.js";
import { isObject, type WireObject } from "../../core/index.js";

export class AnthropicStreamDecoder implements StreamDecoder {
  private started = false;
  private finished = false;
  private stopped = false;
  private failed = false;
  /** Usage counters from message_start, completed by message_delta. */
  private startUsage: WireObject = {};
  /** Content block index -> IR tool-call index (dense, in order of appearance). */
  private readonly toolIndexes = new Map<number, number>();

  constructor(private readonly emit: (event: IrStreamEvent) => void) {}

  push(event: SseEvent): void {
    if (this.failed || this.stopped) return;
    try {
      this.read(event);
    } catch (err) {
      this.failed = true;
      throw err instanceof GatewayError ? err : malformedUpstream("unreadable event", true);
    }
  }

  end(): void {
    if (this.failed || this.stopped) return;
    this.failed = true;
    // A stream that said how it stopped is complete even if message_stop got lost.
    if (!this.finished) throw malformedUpstream("stream ended before message_delta", true);
  }

  private read(event: SseEvent): void {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw malformedUpstream(`${event.event ?? "event"} data is not JSON`, true);
    }
    if (!isObject(data)) throw malformedUpstream("event data is not a JSON object", true);
    const type = typeof data.type === "string" ? data.type : event.event;
    switch (type) {
      case "message_start":
        return this.messageStart(data);
      case "content_block_start":
        return this.blockStart(data);
      case "content_block_delta":
        return this.blockDelta(data);
      case "message_delta":
        return this.messageDelta(data);
      case "message_stop":
        this.stopped = true;
        if (!this.finished) throw malformedUpstream("message_stop before message_delta", true);
        return;
      case "error":
        throw upstreamError(data.error, true);
      default:
        // ping, content_block_stop and event types newer than this translator carry nothing to relay.
        return;
    }
  }

  private ensureStarted(): void {
    if (!this.started) throw malformedUpstream("content before message_start", true);
  }

  private messageStart(data: WireObject): void {
    if (this.started) throw malformedUpstream("second message_start", true);
    if (!isObject(data.message)) throw malformedUpstream("message_start without message", true);
    const message = data.message;
    this.started = true;
    if (isObject(message.usage)) this.startUsage = message.usage;
    this.emit({ type: "start", id: typeof message.id === "string" ? message.id : "", model: typeof message.model === "string" ? message.model : "" });
  }

  private blockStart(data: WireObject): void {
    this.ensureStarted();
    const block = data.content_block;
    if (typeof data.index !== "number" || !isObject(block)) throw malformedUpstream("content_block_start without index or block", true);
    switch (block.type) {
      case "text":
        if (typeof block.text === "string" && block.text.length > 0) this.emit({ type: "text", text: block.text });
        return;
      case "thinking":
        if (typeof block.thinking === "string" && block.thinking.length > 0) this.emit({ type: "thinking", text: block.thinking });
        return;
      case "tool_use": {
        if (typeof block.id !== "string" || typeof block.name !== "string") throw malformedUpstream("tool_use block without id or name", true);
        const index = this.toolIndexes.size;
        this.toolIndexes.set(data.index, index);
        // Non-empty `input` here means the arguments came whole, without input_json_delta.
        const whole = isObject(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : "";
        this.emit({ type: "tool_call", index, id: block.id, name: block.name, argumentsDelta: whole });
        return;
      }
      default:
        return; // redacted_thinking, server tool blocks: no IR stream event for them
    }
  }

  private blockDelta(data: WireObject): void {
    this.ensureStarted();
    const delta = data.delta;
    if (typeof data.index !== "number" || !isObject(delta)) throw malformedUpstream("content_block_delta without index or delta", true);
    switch (delta.type) {
      case "text_delta":
        if (typeof delta.text !== "string") throw malformedUpstream("text_delta without text", true);
        if (delta.text.length > 0) this.emit({ type: "text", text: delta.text });
        return;
      case "thinking_delta":
        if (typeof delta.thinking !== "string") throw malformedUpstream("thinking_delta without thinking", true);
        if (delta.thinking.length > 0) this.emit({ type: "thinking", text: delta.thinking });
        return;
      case "signature_delta":
        if (typeof delta.signature !== "string") throw malformedUpstream("signature_delta without signature", true);
        this.emit({ type: "thinking", text: "", signature: delta.signature });
        return;
      case "input_json_delta": {
        const index = this.toolIndexes.get(data.index);
        if (index === undefined || typeof delta.partial_json !== "string") throw malformedUpstream("input_json_delta outside a tool_use block", true);
        if (delta.partial_json.length > 0) this.emit({ type: "tool_call", index, argumentsDelta: delta.partial_json });
        return;
      }
      default:
        return; // citations_delta and newer delta types
    }
  }

  private messageDelta(data: WireObject): void {
    this.ensureStarted();
    const delta = isObject(data.delta) ? data.delta : {};
    // message_delta counters are cumulative totals; those it omits keep their message_start value.
    const merged: WireObject = { ...this.startUsage };
    if (isObject(data.usage)) for (const [k, v] of Object.entries(data.usage)) if (v !== null && v !== undefined) merged[k] = v;
    const usage = usageToIr(merged);
    if (usage !== undefined) this.emit({ type: "usage", usage });
    if (delta.stop_reason !== undefined && delta.stop_reason !== null && !this.finished) {
      this.finished = true;
      this.emit({
        type: "finish",
        finishReason: stopReasonToIr(delta.stop_reason),
        ...(typeof delta.stop_sequence === "string" ? { stopSequence: delta.stop_sequence } : {}),
      });
    }
  }
}

/** Reads usage from a passed-through stream: parses only message_start and message_delta events. */
export class AnthropicUsageObserver implements StreamObserver {
  usage: IrUsage | undefined;
  /** Anthropic streams always carry usage: nothing is added upstream, so nothing is held back. */
  readonly filters = false;
  private counters: WireObject = {};

  push(event: SseEvent): void {
    const data = event.data;
    if (!data.includes('"message_start"') && !data.includes('"message_delta"')) return;
    try {
      const parsed: unknown = JSON.parse(data);
      if (!isObject(parsed)) return;
      const usage = parsed.type === "message_start" && isObject(parsed.message) ? parsed.message.usage : parsed.usage;
      if (!isObject(usage)) return;
      for (const [k, v] of Object.entries(usage)) if (v !== null && v !== undefined) this.counters[k] = v;
      this.usage = usageToIr(this.counters);
    } catch {
      // A malformed event is the client's to see; the observer only loses this reading.
    }
  }
}
