/**
 * Anthropic SSE -> IR stream events, and the cheap usage observer for passed-through streams.
 *
 * Failure contract (shared by every format's decoder): `push` and `end` throw nothing but a
 * GatewayError — 502 `upstream_error` with failure `stream` for malformed JSON, an event of the
 * wrong shape or a stream cut short; the mapped upstream error for `event: error` (overloaded ->
 * 503, rate limit -> 429). The caller catches it and ends the client stream with
 * `encoder.error(err)`. After a throw the decoder ignores further input.
 */
import { EventShape } from "../../lib/wire/event-shape.js";
import { GatewayError, isObject, type IrStreamEvent, type IrUsage, type SseEvent, type StreamDecoder, type StreamObserver, type WireObject } from "../../core/index.js";
import { type JsonScanner } from "../../lib/wire/json-scan.js";
import { errorEventFailure } from "../../lib/upstream/errors.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { stopReasonToIr, usageToIr } from "./response.js";

export class AnthropicStreamDecoder implements StreamDecoder {
  private started = false;
  private finished = false;
  finishReason: string | undefined;
  private stopped = false;
  private failed = false;
  /** Usage counters from message_start, completed by message_delta. */
  private startUsage: WireObject = {};
  /** Content block index -> IR tool-call index (dense, in order of appearance). */
  private readonly toolIndexes = new Map<number, number>();
  /** Reads most events of a stream without JSON.parse: see scanBlockDelta. */
  private readonly blockDeltas = new EventShape(scanBlockDelta);

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
    if (this.started && this.fastDelta(event.data)) return;
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

  /**
   * A text, thinking or tool-input delta read by its shape instead of JSON.parse: the same events
   * `blockDelta` would emit. False, having emitted nothing, when `read` must parse it whole.
   */
  private fastDelta(data: string): boolean {
    const shape = this.blockDeltas;
    const kind = shape.read(data);
    if (kind === 0) return false;
    const value = shape.text(DELTA_VALUE)!;
    if (kind === INPUT_JSON_DELTA) {
      const index = this.toolIndexes.get(shape.number(BLOCK_INDEX)!);
      if (index === undefined) return false; // `read` reports it
      if (value.length > 0) this.emit({ type: "tool_call", index, argumentsDelta: value });
    } else if (value.length > 0) {
      this.emit({ type: kind === TEXT_DELTA ? "text" : "thinking", text: value });
    }
    return true;
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
      if (typeof delta.stop_reason === "string") this.finishReason = delta.stop_reason;
      this.emit({
        type: "finish",
        finishReason: stopReasonToIr(delta.stop_reason),
        ...(typeof delta.stop_sequence === "string" ? { stopSequence: delta.stop_sequence } : {}),
      });
    }
  }
}

/** scanBlockDelta's kinds and the tags of what it captures. */
const TEXT_DELTA = 1;
const THINKING_DELTA = 2;
const INPUT_JSON_DELTA = 3;
const BLOCK_INDEX = 0;
const DELTA_VALUE = 1;
/** The delta types read fast, with the field that carries each one's value. */
const DELTA_FIELDS: Readonly<Record<string, { kind: number; field: string }>> = {
  text_delta: { kind: TEXT_DELTA, field: "text" },
  thinking_delta: { kind: THINKING_DELTA, field: "thinking" },
  input_json_delta: { kind: INPUT_JSON_DELTA, field: "partial_json" },
};

/**
 * `{"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"…"}}` (or a
 * thinking / input_json delta), in any key order, other keys only checked to be well-formed: the
 * event that makes up most of a stream. Declined on any doubt (a key given twice, a value of the
 * wrong type, `type` left to the SSE event name), and then parsed whole.
 */
function scanBlockDelta(scan: JsonScanner): number {
  if (!scan.enterObject()) return 0;
  let type: string | undefined;
  let index: number | undefined;
  let kind = 0;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    switch (key) {
      case undefined:
        return 0;
      case "type":
        if (type !== undefined || (type = scan.string()) !== "content_block_delta") return 0;
        break;
      case "index":
        if (index !== undefined || (index = scan.captureNumber(BLOCK_INDEX)) === undefined) return 0;
        break;
      case "delta":
        if (kind !== 0 || (kind = scanDelta(scan)) === 0) return 0;
        break;
      default:
        if (!scan.skip()) return 0;
    }
  }
  return type !== undefined && index !== undefined ? kind : 0;
}

function scanDelta(scan: JsonScanner): number {
  if (!scan.enterObject()) return 0;
  let type: string | undefined;
  // The value's field may come before `type`: take the one candidate there is, then check `type` names it.
  let field: string | undefined;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    if (key === undefined) return 0;
    if (key === "type") {
      if (type !== undefined || (type = scan.string()) === undefined) return 0;
    } else if (key === "text" || key === "thinking" || key === "partial_json") {
      if (field !== undefined || scan.capture(DELTA_VALUE) === undefined) return 0;
      field = key;
    } else if (!scan.skip()) {
      return 0;
    }
  }
  const spec = type !== undefined && Object.hasOwn(DELTA_FIELDS, type) ? DELTA_FIELDS[type]! : undefined;
  return spec !== undefined && spec.field === field ? spec.kind : 0;
}

/** Reads usage from a passed-through stream: parses only message_start and message_delta events. */
export class AnthropicUsageObserver implements StreamObserver {
  usage: IrUsage | undefined;
  finishReason: string | undefined;
  /** Anthropic streams always carry usage: nothing is added upstream, so nothing is held back. */
  readonly filters = false;
  private counters: WireObject = {};

  push(event: SseEvent): void {
    const data = event.data;
    // Thrown, an error event ends the stream with the gateway's own event, built from scrubbed fields.
    if (event.event === "error") throw errorEventFailure(data, (error) => upstreamError(error, true), () => malformedUpstream("error data is not JSON", true));
    if (!data.includes('"message_start"') && !data.includes('"message_delta"')) return;
    try {
      const parsed: unknown = JSON.parse(data);
      if (!isObject(parsed)) return;
      if (isObject(parsed.delta) && typeof parsed.delta.stop_reason === "string") this.finishReason ??= parsed.delta.stop_reason;
      const usage = parsed.type === "message_start" && isObject(parsed.message) ? parsed.message.usage : parsed.usage;
      if (!isObject(usage)) return;
      for (const [k, v] of Object.entries(usage)) if (v !== null && v !== undefined) this.counters[k] = v;
      this.usage = usageToIr(this.counters);
    } catch {
      // A malformed event is the client's to see; the observer only loses this reading.
    }
  }
}
