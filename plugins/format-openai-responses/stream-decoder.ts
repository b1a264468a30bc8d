/**
 * Responses API SSE -> IR stream events, and the cheap usage observer for passed-through streams.
 *
 * Failure contract (shared by every format's decoder): `push` and `end` throw nothing but a
 * GatewayError — 502 `upstream_error` with failure `stream` for malformed JSON, an event of the
 * wrong shape or a stream cut short; the upstream's own error for an `error` event or a
 * `response.failed`. The caller catches it and ends the client stream with `encoder.error(err)`.
 * After a throw the decoder ignores further input.
 */
import { openAiLogprobsToIr } from "../../lib/wire/logprobs.js";
import { EventShape } from "../../lib/wire/event-shape.js";
import { GatewayError, isObject, type IrStreamEvent, type IrUsage, type SseEvent, type StreamDecoder, type StreamObserver, type WireObject } from "../../core/index.js";
import { type JsonScanner } from "../../lib/wire/json-scan.js";
import { errorEventFailure } from "../../lib/upstream/errors.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { finishReasonOf, responsesFinishReasonOf, usageToIr } from "./response.js";

const FINAL_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);

interface CallState {
  index: number;
  /** Whether any argument text reached the IR yet (some servers send arguments only whole). */
  sent: boolean;
}

export class ResponsesStreamDecoder implements StreamDecoder {
  private started = false;
  finishReason: string | undefined;
  private finished = false;
  private failed = false;
  private readonly calls = new Map<string, CallState>();
  /** Reads most events of a stream without JSON.parse: see scanDelta. */
  private readonly deltas = new EventShape(scanDelta);

  constructor(private readonly emit: (event: IrStreamEvent) => void) {}

  push(event: SseEvent): void {
    if (this.failed || this.finished) return;
    try {
      this.read(event);
    } catch (err) {
      this.failed = true;
      throw err instanceof GatewayError ? err : malformedUpstream("unreadable event", true);
    }
  }

  end(): void {
    if (this.failed || this.finished) return;
    this.failed = true;
    throw malformedUpstream("stream ended before response.completed", true);
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
    if (type === "error") throw upstreamError(isObject(data.error) ? data.error : data, true);
    if (type === "response.created" || type === "response.in_progress") return this.start(data);
    if (!this.started) {
      if (type !== undefined && FINAL_EVENTS.has(type)) this.start(data);
      else throw malformedUpstream(`${type ?? "event"} before response.created`, true);
    }
    switch (type) {
      case "response.output_item.added":
        return this.itemAdded(data);
      case "response.output_text.delta":
      case "response.refusal.delta":
        return this.text(data, "text");
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta":
        return this.text(data, "thinking");
      case "response.reasoning_summary_part.added":
        // Summary parts are paragraphs; the non-streamed reading joins them the same way.
        if (typeof data.summary_index === "number" && data.summary_index > 0) this.emit({ type: "thinking", text: "\n\n" });
        return;
      case "response.function_call_arguments.delta":
        return this.arguments(data, "delta");
      case "response.function_call_arguments.done":
        return this.arguments(data, "arguments");
      case "response.output_item.done":
        return this.itemDone(data);
      case "response.completed":
      case "response.incomplete":
      case "response.failed":
        return this.final(data);
      default:
        return; // content_part.*, *.done, hosted tool progress: nothing to relay
    }
  }

  /**
   * A text, reasoning or function-argument delta read by its shape instead of JSON.parse: the
   * same events `read` would emit. False, having emitted nothing, when `read` must parse it whole.
   */
  private fastDelta(data: string): boolean {
    const shape = this.deltas;
    const kind = shape.read(data);
    if (kind === 0) return false;
    const delta = shape.text(DELTA)!;
    if (kind === ARGUMENTS_DELTA) {
      const state = this.calls.get(shape.text(ITEM_ID)!);
      if (state === undefined) return false; // `read` reports it
      if (delta.length === 0) return true;
      state.sent = true;
      this.emit({ type: "tool_call", index: state.index, argumentsDelta: delta });
    } else if (delta.length > 0) {
      this.emit({ type: kind === TEXT_DELTA ? "text" : "thinking", text: delta });
    }
    return true;
  }

  private start(data: WireObject): void {
    if (this.started) return;
    if (!isObject(data.response)) throw malformedUpstream("response event without response", true);
    const response = data.response;
    this.started = true;
    this.emit({
      type: "start",
      id: typeof response.id === "string" ? response.id : "",
      model: typeof response.model === "string" ? response.model : "",
      ...(typeof response.created_at === "number" ? { created: response.created_at } : {}),
    });
  }

  private itemAdded(data: WireObject): void {
    const item = data.item;
    if (!isObject(item)) throw malformedUpstream("output_item.added without item", true);
    if (item.type !== "function_call") return;
    if (typeof item.id !== "string" || typeof item.call_id !== "string" || typeof item.name !== "string") throw malformedUpstream("function_call item without id, call_id or name", true);
    const args = typeof item.arguments === "string" ? item.arguments : "";
    const state: CallState = { index: this.calls.size, sent: args.length > 0 };
    this.calls.set(item.id, state);
    this.emit({ type: "tool_call", index: state.index, id: item.call_id, name: item.name, argumentsDelta: args });
  }

  private text(data: WireObject, kind: "text" | "thinking"): void {
    if (typeof data.delta !== "string") throw malformedUpstream(`${String(data.type)} without delta`, true);
    if (data.delta.length > 0) this.emit({ type: kind, text: data.delta });
    const logprobs = openAiLogprobsToIr(data.logprobs);
    if (logprobs.length > 0) this.emit({ type: "logprobs", logprobs });
  }

  private arguments(data: WireObject, key: "delta" | "arguments"): void {
    const state = typeof data.item_id === "string" ? this.calls.get(data.item_id) : undefined;
    const text = data[key];
    if (state === undefined || typeof text !== "string") throw malformedUpstream(`function call ${key} for an unknown item`, true);
    // `.done` repeats the whole text: relay it only when no delta came before.
    if (key === "arguments" && state.sent) return;
    if (text.length === 0) return;
    state.sent = true;
    this.emit({ type: "tool_call", index: state.index, argumentsDelta: text });
  }

  private itemDone(data: WireObject): void {
    const item = data.item;
    if (!isObject(item)) throw malformedUpstream("output_item.done without item", true);
    if (item.type === "reasoning" && typeof item.encrypted_content === "string") {
      this.emit({ type: "thinking", text: "", signature: item.encrypted_content });
    } else if (item.type === "function_call" && typeof item.id === "string") {
      const state = this.calls.get(item.id);
      if (state !== undefined && !state.sent && typeof item.arguments === "string" && item.arguments.length > 0) {
        state.sent = true;
        this.emit({ type: "tool_call", index: state.index, argumentsDelta: item.arguments });
      }
    }
  }

  private final(data: WireObject): void {
    const response = data.response;
    if (!isObject(response)) throw malformedUpstream("final event without response", true);
    const finishReason = finishReasonOf(response, this.calls.size > 0, true);
    this.finishReason = responsesFinishReasonOf(response);
    const usage = usageToIr(response.usage);
    if (usage !== undefined) this.emit({ type: "usage", usage });
    this.finished = true;
    this.emit({ type: "finish", finishReason });
  }
}

/** scanDelta's kinds and the tags of what it captures. */
const TEXT_DELTA = 1;
const THINKING_DELTA = 2;
const ARGUMENTS_DELTA = 3;
const DELTA = 0;
const ITEM_ID = 1;
const DELTA_KINDS: Readonly<Record<string, number>> = {
  "response.output_text.delta": TEXT_DELTA,
  "response.refusal.delta": TEXT_DELTA,
  "response.reasoning_summary_text.delta": THINKING_DELTA,
  "response.reasoning_text.delta": THINKING_DELTA,
  "response.function_call_arguments.delta": ARGUMENTS_DELTA,
};

/**
 * `{"type":"response.output_text.delta","sequence_number":N,"item_id":…,"delta":"…",…}` and the
 * other delta events `read` turns into text, thinking or tool-call arguments: most of a stream.
 * Other keys (sequence_number, indexes, logprobs, obfuscation) are only checked to be
 * well-formed. Declined on any doubt (a key given twice, a value of the wrong type, `type` left
 * to the SSE event name), and then parsed whole.
 */
function scanDelta(scan: JsonScanner): number {
  if (!scan.enterObject()) return 0;
  let kind = 0;
  let delta = false;
  let itemId = false;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    switch (key) {
      case undefined:
        return 0;
      case "type": {
        const type = kind === 0 ? scan.string() : undefined;
        kind = type !== undefined && Object.hasOwn(DELTA_KINDS, type) ? DELTA_KINDS[type]! : 0;
        if (kind === 0) return 0;
        break;
      }
      case "delta":
        if (delta || scan.capture(DELTA) === undefined) return 0;
        delta = true;
        break;
      case "item_id":
        if (itemId || scan.capture(ITEM_ID) === undefined) return 0;
        itemId = true;
        break;
      case "logprobs":
        // Only an empty list: tokens' logprobs are for `read` to relay.
        if (!scan.enterArray() || scan.item() !== false) return 0;
        break;
      default:
        if (!scan.skip()) return 0;
    }
  }
  return delta && (itemId || kind !== ARGUMENTS_DELTA) ? kind : 0;
}

/** Reads usage from a passed-through stream: parses only the final response event. */
export class ResponsesUsageObserver implements StreamObserver {
  usage: IrUsage | undefined;
  finishReason: string | undefined;
  /** response.completed always carries usage: nothing is added upstream, so nothing is held back. */
  readonly filters = false;

  push(event: SseEvent): void {
    const named = event.event;
    // An `error` event is never relayed as it came: its fields may carry the upstream's key or
    // address. Thrown, it ends the stream with the gateway's own event, built from scrubbed fields.
    if (named === "error" || (named === undefined && event.data.includes('"type":"error"'))) {
      throw errorEventFailure(event.data, (error) => upstreamError(error, true), () => malformedUpstream("error data is not JSON", true));
    }
    if (named !== undefined ? !FINAL_EVENTS.has(named) : !/"response\.(completed|incomplete|failed)"/.test(event.data)) return;
    try {
      const data: unknown = JSON.parse(event.data);
      const response = isObject(data) ? data.response : undefined;
      const usage = isObject(response) ? usageToIr(response.usage) : undefined;
      if (usage !== undefined) this.usage = usage;
      this.finishReason = responsesFinishReasonOf(response);
    } catch {
      // A malformed event is the client's to see; the observer only loses this reading.
    }
  }
}
