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
import type { JsonScanner } from "../../lib/wire/json-scan.js";
import { EventShape } from "../../lib/wire/event-shape.js";
import { firstStringField } from "../../lib/wire/string-field.js";
import { GatewayError } from "../../core/index.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { finishReasonToIr, usageToIr } from "./response.js";
import { openAiLogprobsToIr } from "../../lib/wire/logprobs.js";
import { isObject } from "../../core/index.js";

export class OpenAiChatStreamDecoder implements StreamDecoder {
  private started = false;
  private finished = false;
  private done = false;
  private failed = false;
  finishReason: string | undefined;
  /** Reads most chunks of a stream without JSON.parse: see scanTextDelta. */
  private readonly textDeltas = new EventShape(scanTextDelta);

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
    if (this.started && this.textDeltas.read(data) === TEXT_DELTA) {
      const shape = this.textDeltas;
      this.emitTexts(shape.text(CONTENT), shape.text(REFUSAL), shape.text(REASONING_CONTENT), shape.text(REASONING));
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
      // A chunk's logprobs are those of the text it just carried.
      if (isObject(choice.logprobs)) {
        const logprobs = openAiLogprobsToIr(choice.logprobs.content);
        if (logprobs.length > 0) this.emit({ type: "logprobs", logprobs });
      }
      if (choice.finish_reason != null && !this.finished) {
        this.finished = true;
        if (typeof choice.finish_reason === "string") this.finishReason = choice.finish_reason;
        this.emit({ type: "finish", finishReason: finishReasonToIr(choice.finish_reason) });
      }
    }
    const usage = usageToIr(chunk.usage);
    if (usage !== undefined) this.emit({ type: "usage", usage });
  }

  private readDelta(delta: Record<string, unknown>): void {
    this.emitTexts(delta.content, delta.refusal, delta.reasoning_content, delta.reasoning);
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

  /** A delta's text fields, as `read` and the fast path both turn them into events. */
  private emitTexts(content: unknown, refusal: unknown, reasoningContent: unknown, reasoningField: unknown): void {
    const reasoning = reasoningContent ?? reasoningField;
    if (typeof reasoning === "string" && reasoning.length > 0) this.emit({ type: "thinking", text: reasoning });
    if (typeof content === "string" && content.length > 0) this.emit({ type: "text", text: content });
    if (typeof refusal === "string" && refusal.length > 0) this.emit({ type: "text", text: refusal });
  }
}

/** scanTextDelta's kind, and the tags of the text fields it captures. */
const TEXT_DELTA = 1;
const CONTENT = 0;
const REFUSAL = 1;
const REASONING_CONTENT = 2;
const REASONING = 3;

/**
 * The chunk that makes up most of a stream: one choice (index 0) whose delta carries only text
 * (content, refusal, reasoning) or nulls, with no finish_reason, usage or error. For it the
 * decoder emits exactly what `read` would, without JSON.parse; anything else, or any doubt (a key
 * read twice, a tool call, a value of an unexpected type), is declined and parsed whole. Keys
 * `read` ignores (id, model, system_fingerprint, logprobs, role, obfuscation…) are only checked
 * to be well-formed.
 */
function scanTextDelta(scan: JsonScanner): number {
  if (!scan.enterObject()) return 0;
  let choices = false;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    switch (key) {
      case undefined:
        return 0;
      case "choices":
        if (choices || !scanOnlyChoice(scan)) return 0;
        choices = true;
        break;
      case "error":
      case "usage":
        if (!scan.null()) return 0;
        break;
      default:
        if (!scan.skip()) return 0;
    }
  }
  return choices ? TEXT_DELTA : 0;
}

/** `[{"index":0,"delta":{…},"finish_reason":null}]`: exactly one choice, index 0 or none. */
function scanOnlyChoice(scan: JsonScanner): boolean {
  if (!scan.enterArray() || scan.item() !== true || !scan.enterObject()) return false;
  let delta = false;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    switch (key) {
      case undefined:
        return false;
      case "index":
        if (scan.number() !== 0) return false;
        break;
      case "delta":
        if (delta || !scanTextFields(scan)) return false;
        delta = true;
        break;
      case "finish_reason":
      case "logprobs":
        if (!scan.null()) return false;
        break;
      default:
        if (!scan.skip()) return false;
    }
  }
  return scan.item() === false;
}

const TEXT_FIELDS = { content: CONTENT, refusal: REFUSAL, reasoning_content: REASONING_CONTENT, reasoning: REASONING } as const;

/** A delta of text fields (each text or null) and nothing `read` would act on (tool_calls null). */
function scanTextFields(scan: JsonScanner): boolean {
  if (!scan.enterObject()) return false;
  let seen = 0;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    switch (key) {
      case undefined:
        return false;
      case "tool_calls":
        if (!scan.null()) return false;
        break;
      case "content":
      case "refusal":
      case "reasoning_content":
      case "reasoning": {
        const tag = TEXT_FIELDS[key];
        // Given twice, JSON.parse keeps the last, and a null after a text would hide it: declined.
        if ((seen & (1 << tag)) !== 0) return false;
        seen |= 1 << tag;
        if (!scan.null() && scan.capture(tag) === undefined) return false;
        break;
      }
      default:
        if (!scan.skip()) return false;
    }
  }
  return true;
}

/**
 * The keys that name an event `push` may need, found in one scan: `"finish_reason"` with a string
 * value (spaced or not; wanted once), `"prompt_tokens"` and `"error"` (wanted wherever they occur).
 * Every delta before the last says `"finish_reason":null`, which does not match: the usual event
 * matches nothing, and a scan that matches nothing allocates nothing but the chunk's text (a
 * match array per event was 6% of what the gateway allocated per passed-through stream). A match
 * may also be the end of a string value (`"…\"error"`): that event is parsed for nothing. None is
 * missed: in JSON a closing quote is followed by `:`, `,`, `}`, `]` or space, so a key's own quotes
 * are never taken by the match before it.
 */
const WANTED_KEYS = /"(?:finish_reason"[ \t\n\r]*:[ \t\n\r]*"|prompt_tokens"|error")/g;
const NONE: readonly number[] = Object.freeze([]);

/** Reads usage from a passed-through stream; parses only chunks that carry a usage object. */
export class OpenAiChatUsageObserver implements StreamObserver {
  usage: IrUsage | undefined;
  finishReason: string | undefined;
  /**
   * The gateway always asks upstream for usage (for cost and records); a client that did not ask
   * must not get the extra `choices: []` chunk, which code reading `choices[0]` trips over.
   */
  readonly filters: boolean;

  constructor(clientBody: Record<string, unknown>) {
    const options = clientBody.stream_options;
    this.filters = !(isObject(options) && options.include_usage === true);
  }

  /** Every event but these is a no-op for `push`: the first with a finish reason, usage chunks, errors. */
  eventsWanted(chunk: Buffer): readonly number[] {
    // Read as latin1, a character per byte, so offsets in the text are offsets in the chunk. One
    // regular-expression scan costs about a quarter of a Buffer.indexOf per key (measured on
    // one-event chunks, where each call's fixed cost is most of it).
    const text = chunk.toString("latin1");
    let at: number[] | undefined;
    let reasonWanted = this.finishReason === undefined;
    WANTED_KEYS.lastIndex = 0;
    for (let match = WANTED_KEYS.exec(text); match !== null; match = WANTED_KEYS.exec(text)) {
      if (text.charCodeAt(match.index + 1) === 102 /* f */) {
        if (!reasonWanted) continue;
        reasonWanted = false;
      }
      (at ??= []).push(match.index);
    }
    return at ?? NONE;
  }

  push(event: SseEvent): boolean {
    // The first reason a chunk names (choice 0's unless the client asked for n > 1); every chunk before says `"finish_reason":null`.
    this.finishReason ??= firstStringField(event.data, "finish_reason");
    const hasError = event.data.includes('"error"');
    // With include_usage every chunk says `"usage":null`; only the real one names prompt_tokens.
    if (!hasError && !event.data.includes('"prompt_tokens"')) return true;
    try {
      const chunk: unknown = JSON.parse(event.data);
      if (!isObject(chunk)) return true;
      // An in-stream error chunk is never relayed as it came: its fields may carry the
      // upstream's key or address. Thrown, it ends the stream with the gateway's own error chunk.
      if (hasError && chunk.error != null) throw upstreamError(chunk.error, true);
      const usage = usageToIr(chunk.usage);
      if (usage !== undefined) this.usage = usage;
      const usageOnly = Array.isArray(chunk.choices) && chunk.choices.length === 0;
      return !(this.filters && usageOnly);
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      // A malformed chunk is the client's to see; the observer only loses this reading.
      return true;
    }
  }
}
