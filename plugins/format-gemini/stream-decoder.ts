/**
 * Gemini `streamGenerateContent?alt=sse` -> IR stream events, and the cheap usage observer for
 * passed-through streams.
 *
 * Failure contract (shared by every format's decoder): `push` and `end` throw nothing but a
 * GatewayError — 502 `upstream_error` with failure `stream` for malformed JSON, a chunk of the
 * wrong shape or a stream cut short (no finishReason); the mapped upstream error for an in-stream
 * `{"error":…}` chunk. The caller catches it and ends the client stream with `encoder.error(err)`.
 * After a throw the decoder ignores further input.
 */
import { geminiLogprobsToIr } from "../../lib/wire/logprobs.js";
import { EventShape } from "../../lib/wire/event-shape.js";
import { GatewayError, type IrStreamEvent, type IrUsage, type SseEvent, type StreamDecoder, type StreamObserver } from "../../core/index.js";
import { type JsonScanner } from "../../lib/wire/json-scan.js";
import { malformedUpstream, upstreamError } from "./errors.js";
import { modelPartToIr } from "./parts.js";
import { finishReasonToIr, geminiFinishReasonOf, usageToIr } from "./response.js";
import { isObject } from "../../core/index.js";

export class GeminiStreamDecoder implements StreamDecoder {
  private started = false;
  finishReason: string | undefined;
  private finished = false;
  private failed = false;
  private calls = 0;
  /** Reads most chunks of a stream without JSON.parse: see scanTextChunk. */
  private readonly textChunks = new EventShape(scanTextChunk);
  /** The last usageMetadata text read fast and its reading: it repeats over many chunks. */
  private usageText: string | undefined;
  private usage: IrUsage | undefined;

  constructor(private readonly emit: (event: IrStreamEvent) => void) {}

  push(event: SseEvent): void {
    if (this.failed) return;
    try {
      this.read(event);
    } catch (err) {
      this.failed = true;
      throw err instanceof GatewayError ? err : malformedUpstream("unreadable chunk", true);
    }
  }

  end(): void {
    if (this.failed) return;
    this.failed = true;
    if (!this.finished) throw malformedUpstream("stream ended before a finishReason", true);
  }

  private read(event: SseEvent): void {
    if (this.started && this.fastText(event.data)) return;
    let chunk: unknown;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      throw malformedUpstream("chunk is not JSON", true);
    }
    if (!isObject(chunk)) throw malformedUpstream("chunk is not a JSON object", true);
    if (chunk.error != null) throw upstreamError(chunk.error, true);
    if (!this.started) {
      this.started = true;
      this.emit({ type: "start", id: typeof chunk.responseId === "string" ? chunk.responseId : "", model: typeof chunk.modelVersion === "string" ? chunk.modelVersion : "" });
    }
    const candidates = chunk.candidates;
    if (candidates !== undefined && !Array.isArray(candidates)) throw malformedUpstream("candidates is not an array", true);
    const candidate: unknown = candidates?.[0];
    if (candidate !== undefined) {
      if (!isObject(candidate)) throw malformedUpstream("candidate is not an object", true);
      const parts = isObject(candidate.content) ? candidate.content.parts : undefined;
      if (parts !== undefined && !Array.isArray(parts)) throw malformedUpstream("content.parts is not an array", true);
      (parts ?? []).forEach((p, i) => {
        for (const part of modelPartToIr(p, `candidates[0].content.parts[${i}]`, () => `call_${this.calls}`, (param, message) => malformedUpstream(`${param}: ${message}`, true))) {
          if (part.type === "text") this.emit({ type: "text", text: part.text });
          else if (part.type === "thinking") this.emit(part.signature === undefined ? { type: "thinking", text: part.text } : { type: "thinking", text: part.text, signature: part.signature });
          else if (part.type === "tool_call") this.emit({ type: "tool_call", index: this.calls++, id: part.id, name: part.name, argumentsDelta: part.arguments });
        }
      });
      // A chunk's logprobs are those of the text it carries.
      const logprobs = geminiLogprobsToIr(candidate.logprobsResult);
      if (logprobs.length > 0) this.emit({ type: "logprobs", logprobs });
    }
    const usage = usageToIr(chunk.usageMetadata);
    if (usage !== undefined) this.emit({ type: "usage", usage });
    const reason = isObject(candidate) ? candidate.finishReason : undefined;
    const blocked = candidate === undefined && isObject(chunk.promptFeedback) && chunk.promptFeedback.blockReason !== undefined;
    if (!this.finished && ((reason !== undefined && reason !== null) || blocked)) {
      this.finished = true;
      this.finishReason = geminiFinishReasonOf(chunk);
      this.emit({ type: "finish", finishReason: blocked ? "content_filter" : finishReasonToIr(reason, this.calls > 0) });
    }
  }

  /**
   * A chunk of one text part (and usageMetadata) read by its shape instead of JSON.parse: the
   * same events `read` would emit. False, having emitted nothing, when `read` must parse it whole.
   */
  private fastText(data: string): boolean {
    const shape = this.textChunks;
    if (shape.read(data) !== TEXT_CHUNK) return false;
    const text = shape.text(TEXT)!;
    if (text.length > 0) this.emit({ type: "text", text });
    const usageText = shape.raw(USAGE);
    if (usageText !== undefined) {
      if (usageText !== this.usageText) {
        this.usageText = usageText;
        this.usage = usageToIr(JSON.parse(usageText));
      }
      if (this.usage !== undefined) this.emit({ type: "usage", usage: { ...this.usage } });
    }
    return true;
  }
}

/** scanTextChunk's kind and the tags of what it captures. */
const TEXT_CHUNK = 1;
const TEXT = 0;
const USAGE = 1;

/**
 * `{"candidates":[{"content":{"parts":[{"text":"…"}],"role":"model"},"index":0}],"usageMetadata":{…},…}`:
 * one candidate, one plain text part, no finishReason, no error — most chunks of a stream. Other
 * keys (modelVersion, responseId, role, safetyRatings…) are only checked to be well-formed.
 * Declined on any doubt (a key given twice, a thought or signed part, a value of the wrong type),
 * and then parsed whole.
 */
function scanTextChunk(scan: JsonScanner): number {
  if (!scan.enterObject()) return 0;
  let candidates = false;
  let usage = false;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    switch (key) {
      case undefined:
        return 0;
      case "candidates":
        if (candidates || !scan.enterArray() || scan.item() !== true || !scanCandidate(scan) || scan.item() !== false) return 0;
        candidates = true;
        break;
      case "usageMetadata":
        if (usage || scan.captureRaw(USAGE) === undefined) return 0;
        usage = true;
        break;
      case "error":
        if (!scan.null()) return 0;
        break;
      default:
        if (!scan.skip()) return 0;
    }
  }
  return candidates ? TEXT_CHUNK : 0;
}

function scanCandidate(scan: JsonScanner): boolean {
  if (!scan.enterObject()) return false;
  let content = false;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    switch (key) {
      case undefined:
        return false;
      case "content":
        if (content || !scanContent(scan)) return false;
        content = true;
        break;
      case "finishReason":
        if (!scan.null()) return false;
        break;
      case "logprobsResult":
        return false; // tokens' logprobs are for `read` to relay
      default:
        if (!scan.skip()) return false;
    }
  }
  return content;
}

function scanContent(scan: JsonScanner): boolean {
  if (!scan.enterObject()) return false;
  let parts = false;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    if (key === undefined) return false;
    if (key === "parts") {
      if (parts || !scan.enterArray() || scan.item() !== true || !scanTextPart(scan) || scan.item() !== false) return false;
      parts = true;
    } else if (!scan.skip()) {
      return false;
    }
  }
  return parts;
}

function scanTextPart(scan: JsonScanner): boolean {
  if (!scan.enterObject()) return false;
  let text = false;
  for (let key = scan.key(); key !== null; key = scan.key()) {
    switch (key) {
      case undefined:
      case "thoughtSignature":
      case "thought_signature":
        return false;
      case "text":
        if (text || scan.capture(TEXT) === undefined) return false;
        text = true;
        break;
      case "thought":
        // Only a part that is not a thought reads as text.
        if (!scan.null() && scan.boolean() !== false) return false;
        break;
      default:
        if (!scan.skip()) return false;
    }
  }
  return text;
}

/** Reads usage from a passed-through stream: parses only chunks that carry usageMetadata. */
export class GeminiUsageObserver implements StreamObserver {
  usage: IrUsage | undefined;
  finishReason: string | undefined;
  /** Gemini streams always carry usageMetadata: nothing is added upstream, so nothing is held back. */
  readonly filters = false;

  push(event: SseEvent): void {
    const hasError = event.data.includes('"error"');
    if (!hasError && !event.data.includes('"usageMetadata"') && !event.data.includes('"finishReason"')) return;
    let chunk: unknown;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      // A malformed chunk is the client's to see; the observer only loses this reading.
      return;
    }
    // An in-stream error chunk is never relayed as it came: its fields may carry the upstream's
    // key or address. Thrown, it ends the stream with the gateway's own scrubbed error chunk.
    if (hasError && isObject(chunk) && chunk.error != null) throw upstreamError(chunk.error, true);
    try {
      const usage = isObject(chunk) ? usageToIr(chunk.usageMetadata) : undefined;
      if (usage !== undefined) this.usage = usage;
      this.finishReason ??= geminiFinishReasonOf(chunk);
    } catch {
      // A malformed chunk is the client's to see; the observer only loses this reading.
    }
  }
}
