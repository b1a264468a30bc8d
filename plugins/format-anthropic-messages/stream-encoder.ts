/**
 * IR stream events -> Anthropic SSE, as the Anthropic SDKs read it: `message_start`, then per
 * content block `content_block_start` / `content_block_delta`… / `content_block_stop`, then
 * `message_delta` with the stop reason and usage, then `message_stop`.
 *
 * Blocks open and close one at a time. IR finish and usage may come in either order, so the
 * closing `message_delta` waits for end(). A tool-call delta for a block already closed (only if
 * a source interleaved parallel calls) is still sent to that block's index, which is where the
 * SDKs accumulate it.
 */
import { randomUUID } from "node:crypto";
import { sseFrame } from "../../lib/wire/sse.js";
import { type GatewayError, type IrFinishReason, type IrRequest, type IrStreamEvent, type IrUsage, type SseTextSink, type StreamEncoder } from "../../core/index.js";
import { anthropicErrorBody } from "./errors.js";
import { stopReasonFromIr, usageFromIr } from "./response.js";
import type { WireObject } from "../../core/index.js";

type DeltaType = "text_delta" | "thinking_delta" | "signature_delta" | "input_json_delta";
const DELTA_HEAD = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":';

type OpenBlock = { kind: "text" | "thinking"; index: number } | { kind: "tool"; index: number; toolIndex: number };

export class AnthropicStreamEncoder implements StreamEncoder {
  private started = false;
  private closed = false;
  private nextIndex = 0;
  private open: OpenBlock | undefined;
  private readonly toolBlocks = new Map<number, number>();
  private usage: IrUsage | undefined;
  private finish: { reason: IrFinishReason; stopSequence?: string } | undefined;

  constructor(
    private readonly request: IrRequest,
    private readonly write: SseTextSink,
  ) {}

  push(event: IrStreamEvent): void {
    if (this.closed) return;
    if (event.type === "start") {
      this.start(event.id, event.model);
      return;
    }
    if (!this.started) this.start("", "");
    switch (event.type) {
      case "text":
        if (event.text.length === 0) return;
        this.delta(this.ensureOpen("text"), "text_delta", "text", event.text);
        return;
      case "thinking":
        if (event.text.length > 0) this.delta(this.ensureOpen("thinking"), "thinking_delta", "thinking", event.text);
        if (event.signature !== undefined) this.delta(this.ensureOpen("thinking"), "signature_delta", "signature", event.signature);
        return;
      case "tool_call":
        this.toolCall(event);
        return;
      case "usage":
        this.usage = event.usage;
        return;
      case "finish":
        this.closeOpen();
        this.finish = event.stopSequence === undefined ? { reason: event.finishReason } : { reason: event.finishReason, stopSequence: event.stopSequence };
        return;
    }
  }

  end(): void {
    if (this.closed) return;
    if (!this.started) this.start("", "");
    this.closeOpen();
    const reason = this.finish?.reason ?? "stop";
    this.emit("message_delta", {
      type: "message_delta",
      delta: { stop_reason: stopReasonFromIr(reason, this.finish?.stopSequence), stop_sequence: this.finish?.stopSequence ?? null },
      usage: usageFromIr(this.usage ?? { inputTokens: 0, outputTokens: 0 }),
    });
    this.emit("message_stop", { type: "message_stop" });
    this.closed = true;
  }

  error(err: GatewayError): void {
    if (this.closed) return;
    this.emit("error", anthropicErrorBody(err));
    this.closed = true;
  }

  private start(id: string, model: string): void {
    if (this.started) return;
    this.started = true;
    this.emit("message_start", {
      type: "message_start",
      message: {
        id: id.length > 0 ? id : `msg_${randomUUID().replace(/-/g, "")}`,
        type: "message",
        role: "assistant",
        model: model.length > 0 ? model : this.request.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // Input counts are rarely known this early when translating; message_delta carries the totals.
        usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
      },
    });
  }

  /** The index of the open block of `kind`, opening one (and closing another) when needed. */
  private ensureOpen(kind: "text" | "thinking"): number {
    if (this.open?.kind === kind) return this.open.index;
    this.closeOpen();
    this.open = { kind, index: this.nextIndex++ };
    const block = kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" };
    this.emit("content_block_start", { type: "content_block_start", index: this.open.index, content_block: block });
    return this.open.index;
  }

  private toolCall(event: Extract<IrStreamEvent, { type: "tool_call" }>): void {
    const known = this.toolBlocks.get(event.index);
    if (known !== undefined) {
      if (event.argumentsDelta.length > 0) this.delta(known, "input_json_delta", "partial_json", event.argumentsDelta);
      return;
    }
    this.closeOpen();
    const index = this.nextIndex++;
    this.toolBlocks.set(event.index, index);
    this.open = { kind: "tool", index, toolIndex: event.index };
    this.emit("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: event.id ?? `toolu_${randomUUID().replace(/-/g, "").slice(0, 24)}`, name: event.name ?? "", input: {} },
    });
    if (event.argumentsDelta.length > 0) this.delta(index, "input_json_delta", "partial_json", event.argumentsDelta);
  }

  private closeOpen(): void {
    if (this.open === undefined) return;
    this.emit("content_block_stop", { type: "content_block_stop", index: this.open.index });
    this.open = undefined;
  }

  /**
   * `content_block_delta` written as text: byte for byte what JSON.stringify of the event object
   * gives (`type` and `field` are this file's own names, which need no escaping), without building
   * and walking two objects for each of the dozens of deltas in a stream.
   */
  private delta(index: number, type: DeltaType, field: string, value: string): void {
    this.write(`${DELTA_HEAD}${index},"delta":{"type":"${type}","${field}":${JSON.stringify(value)}}}\n\n`);
  }

  private emit(name: string, data: WireObject): void {
    this.write(sseFrame(JSON.stringify(data), name));
  }
}
