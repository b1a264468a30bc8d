/**
 * IR stream events -> Gemini `streamGenerateContent?alt=sse`: each SSE event is one
 * GenerateContentResponse chunk; the last carries `finishReason` and `usageMetadata`.
 *
 * Gemini sends function calls whole, so tool-call deltas are gathered and sent as functionCall
 * parts in the final chunk. A thinking signature rides on the next part sent, as Gemini's do.
 */
import { geminiLogprobsFromIr } from "../../lib/wire/logprobs.js";
import { randomUUID } from "node:crypto";
import { sseFrame } from "../../lib/wire/sse.js";
import { type GatewayError, type IrFinishReason, type IrRequest, type IrStreamEvent, type IrUsage, type SseTextSink, type StreamEncoder } from "../../core/index.js";
import { googleErrorBody } from "./errors.js";
import { argsOf } from "./parts.js";
import { finishReasonFromIr, usageFromIr } from "./response.js";
import type { WireObject } from "../../core/index.js";

export class GeminiStreamEncoder implements StreamEncoder {
  private id = "";
  private model: string;
  private started = false;
  private closed = false;
  private signature: string | undefined;
  private usage: IrUsage | undefined;
  private finish: IrFinishReason | undefined;
  private readonly calls = new Map<number, { id?: string; name: string; args: string }>();
  /** `,"modelVersion":…,"responseId":…}`, the end of every chunk, made once the id is fixed. */
  private tail: string | undefined;

  constructor(
    request: IrRequest,
    private readonly write: SseTextSink,
  ) {
    this.model = request.model;
  }

  push(event: IrStreamEvent): void {
    if (this.closed) return;
    switch (event.type) {
      case "start":
        if (!this.started) {
          this.started = true;
          if (event.id.length > 0) this.id = event.id;
          if (event.model.length > 0) this.model = event.model;
          this.tail = undefined;
        }
        return;
      case "text":
        if (event.text.length === 0) return;
        if (this.signature === undefined) this.textChunk(event.text, "");
        else this.chunk([this.signed({ text: event.text })]);
        return;
      case "thinking":
        if (event.text.length > 0) this.textChunk(event.text, ',"thought":true');
        if (event.signature !== undefined) this.signature = event.signature;
        return;
      case "tool_call": {
        const call = this.calls.get(event.index);
        if (call === undefined) this.calls.set(event.index, { ...(event.id === undefined ? {} : { id: event.id }), name: event.name ?? "", args: event.argumentsDelta });
        else call.args += event.argumentsDelta;
        return;
      }
      case "logprobs":
        this.chunk([{ text: "" }], { logprobsResult: geminiLogprobsFromIr(event.logprobs) });
        return;
      case "usage":
        this.usage = event.usage;
        return;
      case "finish":
        this.finish = event.finishReason;
        return;
    }
  }

  end(): void {
    if (this.closed) return;
    const parts: WireObject[] = [...this.calls.values()].map((c) => this.signed({ functionCall: { ...(c.id === undefined ? {} : { id: c.id }), name: c.name, args: argsOf(c.args) } }));
    if (this.signature !== undefined) parts.push(this.signed({ text: "" }));
    const candidate: WireObject = { finishReason: finishReasonFromIr(this.finish ?? "stop"), index: 0 };
    if (parts.length > 0) candidate.content = { role: "model", parts };
    this.emit({ candidates: [candidate], ...(this.usage === undefined ? {} : { usageMetadata: usageFromIr(this.usage) }) });
    this.closed = true;
  }

  error(err: GatewayError): void {
    if (this.closed) return;
    const body = JSON.stringify(googleErrorBody(err));
    // SSE clients read the framed event; Google's SDKs only raise on an unframed JSON error, which
    // they find either alone in a network chunk or left over at the end: send both, framed first.
    this.write(sseFrame(body));
    this.write(body);
    this.closed = true;
  }

  /** Moves a pending thought signature onto `part`. */
  private signed(part: WireObject): WireObject {
    if (this.signature === undefined) return part;
    const signed = { ...part, thoughtSignature: this.signature };
    this.signature = undefined;
    return signed;
  }

  private chunk(parts: WireObject[], more: WireObject = {}): void {
    this.emit({ candidates: [{ content: { role: "model", parts }, index: 0, ...more }] });
  }

  /**
   * A chunk of one text part, written as text: byte for byte what `chunk` gives, without building
   * and walking the objects for each of the dozens of text chunks in a stream.
   */
  private textChunk(text: string, thought: string): void {
    this.write(`data: {"candidates":[{"content":{"role":"model","parts":[{"text":${JSON.stringify(text)}${thought}}]},"index":0}]${this.envelopeTail()}\n\n`);
  }

  private envelopeTail(): string {
    if (this.tail === undefined) {
      if (this.id.length === 0) this.id = randomUUID().replace(/-/g, "").slice(0, 22);
      this.tail = `,"modelVersion":${JSON.stringify(this.model)},"responseId":${JSON.stringify(this.id)}}`;
    }
    return this.tail;
  }

  private emit(chunk: WireObject): void {
    if (this.id.length === 0) this.id = randomUUID().replace(/-/g, "").slice(0, 22);
    this.write(sseFrame(JSON.stringify({ ...chunk, modelVersion: this.model, responseId: this.id })));
  }
}
