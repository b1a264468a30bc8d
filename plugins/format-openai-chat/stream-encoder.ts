/**
 * IR stream events -> `chat.completion.chunk` SSE, as the OpenAI SDKs read it: a role chunk first,
 * content/tool-call deltas, a finish chunk, then (when the client asked for
 * `stream_options.include_usage`) a usage chunk with `choices: []`, then `data: [DONE]`.
 */
import { openAiLogprobsFromIr } from "../../lib/wire/logprobs.js";
import { randomUUID } from "node:crypto";
import { sseFrame } from "../../lib/wire/sse.js";
import { type GatewayError, type IrRequest, type IrStreamEvent, type IrUsage, type SseTextSink, type StreamEncoder } from "../../core/index.js";
import { openAiErrorObject } from "../../lib/wire/openai-error.js";
import { finishReasonFromIr, usageFromIr } from "./response.js";
import type { WireObject } from "../../core/index.js";

/** What follows a delta chunk's one field: see `deltaHead`. */
const DELTA_TAIL = '},"logprobs":null,"finish_reason":null}]}\n\n';

export class OpenAiChatStreamEncoder implements StreamEncoder {
  private id = "";
  private model: string;
  private created = 0;
  private started = false;
  private closed = false;
  private usage: IrUsage | undefined;
  /**
   * `data: {"id":…,"object":…,"created":…,"model":…,"choices":[{"index":0,"delta":{`, fixed once
   * the stream starts: a delta chunk is this, its one field, and DELTA_TAIL, which is byte for byte
   * what JSON.stringify of the whole chunk gives, for a fraction of the work.
   */
  private deltaHead = "";
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
        if (event.text.length > 0) this.write(`${this.deltaHead}"content":${JSON.stringify(event.text)}${DELTA_TAIL}`);
        return;
      case "thinking":
        // DeepSeek/vLLM's field: ignored by the official SDK, shown by clients that know it.
        if (event.text.length > 0) this.write(`${this.deltaHead}"reasoning_content":${JSON.stringify(event.text)}${DELTA_TAIL}`);
        return;
      case "tool_call":
        this.toolCall(event);
        return;
      case "logprobs":
        this.emit({ ...this.envelope(), choices: [{ index: 0, delta: {}, logprobs: { content: openAiLogprobsFromIr(event.logprobs), refusal: null }, finish_reason: null }] });
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
    const envelope = JSON.stringify(this.envelope());
    this.deltaHead = `data: ${envelope.slice(0, -1)},"choices":[{"index":0,"delta":{`;
    this.chunk({ role: "assistant", content: "" }, null);
  }

  private toolCall(event: Extract<IrStreamEvent, { type: "tool_call" }>): void {
    let index = this.toolIndexes.get(event.index);
    const first = index === undefined;
    if (index === undefined) {
      index = this.toolIndexes.size;
      this.toolIndexes.set(event.index, index);
    }
    if (!first) {
      this.write(`${this.deltaHead}"tool_calls":[{"index":${index},"function":{"arguments":${JSON.stringify(event.argumentsDelta)}}}]${DELTA_TAIL}`);
      return;
    }
    const call: WireObject = { index, id: event.id ?? `call_${randomUUID().replace(/-/g, "").slice(0, 24)}`, type: "function", function: { name: event.name ?? "", arguments: event.argumentsDelta } };
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
