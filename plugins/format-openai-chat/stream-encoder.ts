/**
 * IR stream events -> `chat.completion.chunk` SSE, as the OpenAI SDKs read it: a role chunk first,
 * content/tool-call deltas, a finish chunk, then (when the client asked for
 * `stream_options.include_usage`) a usage chunk with `choices: []`, then `data: [DONE]`.
 */
import { randomUUID } from "node:crypto";
import { sseFrame, type GatewayError, type IrRequest, type IrStreamEvent, type IrUsage, type SseTextSink, type StreamEncoder } from "../../core/index.js";
import { openAiErrorObject } from "../../core/index.js";
import { finishReasonFromIr, usageFromIr } from "./response.js";
import type { WireObject } from "../../core/index.js";

export class OpenAiChatStreamEncoder implements StreamEncoder {
  private id = "";
  private model: string;
  private created = 0;
  private started = false;
  private closed = false;
  private usage: IrUsage | undefined;
  /** IR tool-call index -> OpenAI's dense `tool_calls[].index`. */
  private readonly toolIndexes = new Map<number, number>();

  constructor(
    private readonly request: IrRequest,
    private readonly write: SseTextSink,
  ) {
    this.model = request.model;
  }

  push(event: IrStreamEvent): void {
    if (this.closed) return;
    if (event.type === "start") {
      this.start(event.id, event.model, event.created);
      return;
    }
    if (!this.started) this.start("", this.request.model, undefined);
    switch (event.type) {
      case "text":
        if (event.text.length > 0) this.chunk({ content: event.text }, null);
        return;
      case "thinking":
        // DeepSeek/vLLM's field: ignored by the official SDK, shown by clients that know it.
        if (event.text.length > 0) this.chunk({ reasoning_content: event.text }, null);
        return;
      case "tool_call":
        this.toolCall(event);
        return;
      case "usage":
        this.usage = event.usage;
        return;
      case "finish":
        this.chunk({}, finishReasonFromIr(event.finishReason));
        return;
    }
  }

  end(): void {
    if (this.closed) return;
    if (!this.started) this.start("", this.request.model, undefined);
    if (this.request.streamUsage === true && this.usage !== undefined) {
      this.emit({ ...this.envelope(), choices: [], usage: usageFromIr(this.usage) });
    }
    this.write("data: [DONE]\n\n");
    this.closed = true;
  }

  error(err: GatewayError): void {
    if (this.closed) return;
    this.write(sseFrame(JSON.stringify({ error: openAiErrorObject(err) })));
    this.closed = true;
  }

  private start(id: string, model: string, created: number | undefined): void {
    if (this.started) return;
    this.started = true;
    this.id = id.length > 0 ? id : `chatcmpl-${randomUUID()}`;
    this.model = model.length > 0 ? model : this.request.model;
    this.created = created ?? Math.floor(Date.now() / 1000);
    this.chunk({ role: "assistant", content: "" }, null);
  }

  private toolCall(event: Extract<IrStreamEvent, { type: "tool_call" }>): void {
    let index = this.toolIndexes.get(event.index);
    const first = index === undefined;
    if (index === undefined) {
      index = this.toolIndexes.size;
      this.toolIndexes.set(event.index, index);
    }
    const call: WireObject = first
      ? { index, id: event.id ?? `call_${randomUUID().replace(/-/g, "").slice(0, 24)}`, type: "function", function: { name: event.name ?? "", arguments: event.argumentsDelta } }
      : { index, function: { arguments: event.argumentsDelta } };
    this.chunk({ tool_calls: [call] }, null);
  }

  private envelope(): WireObject {
    return { id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model };
  }

  private chunk(delta: WireObject, finishReason: string | null): void {
    this.emit({ ...this.envelope(), choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
  }

  private emit(chunk: WireObject): void {
    this.write(sseFrame(JSON.stringify(chunk)));
  }
}
