/**
 * IR stream events -> Responses API SSE, as the OpenAI SDKs read it: `response.created`,
 * `response.in_progress`, then per output item `response.output_item.added`, its content events
 * (`response.content_part.added` + `response.output_text.delta`…, reasoning summary parts and
 * deltas, `response.function_call_arguments.delta`), their `.done` events and
 * `response.output_item.done`, then `response.completed` (or `.incomplete` / `.failed`) carrying
 * the whole response with usage. Every event has a `sequence_number`.
 *
 * Parallel function calls stay open together until something else comes, so interleaved argument
 * deltas still land on the right item.
 */
import { openAiLogprobsFromIr } from "../../lib/wire/logprobs.js";
import { sseFrame } from "../../lib/wire/sse.js";
import { type GatewayError, type IrFinishReason, type IrRequest, type IrStreamEvent, type IrUsage, type SseTextSink, type StreamEncoder } from "../../core/index.js";
import { renderResponsesError } from "./errors.js";
import { functionCallItem, itemId, messageItem, outputText, reasoningItem, responseEnvelope, statusFromIr, usageFromIr } from "./response.js";
import type { WireObject } from "../../core/index.js";

interface OpenText {
  kind: "message" | "reasoning";
  id: string;
  outputIndex: number;
  text: string;
  /** `"item_id":…,"output_index":…`, as every delta event of the item says it. */
  at: string;
  signature?: string;
  /** Message only: the logprobs of its text so far, in OpenAI's shape. */
  logprobs?: WireObject[];
  /** Reasoning only: whether a summary part was opened (a signature alone opens none). */
  summaryOpen: boolean;
}

interface OpenCall {
  id: string;
  outputIndex: number;
  callId: string;
  name: string;
  args: string;
  /** `"item_id":…,"output_index":…`, as every delta event of the item says it. */
  at: string;
}

function itemAt(id: string, outputIndex: number): string {
  return `"item_id":${JSON.stringify(id)},"output_index":${outputIndex}`;
}

export class ResponsesStreamEncoder implements StreamEncoder {
  private sequence = 0;
  private envelope: WireObject | undefined;
  private closed = false;
  private current: OpenText | undefined;
  private readonly openCalls = new Map<number, OpenCall>();
  private readonly doneCalls = new Map<number, OpenCall>();
  private readonly output: WireObject[] = [];
  private usage: IrUsage | undefined;
  private finish: IrFinishReason | undefined;

  constructor(
    private readonly request: IrRequest,
    private readonly write: SseTextSink,
  ) {}

  push(event: IrStreamEvent): void {
    if (this.closed) return;
    if (event.type === "start") {
      this.start(event.id, event.model, event.created);
      return;
    }
    this.start("", "", undefined);
    switch (event.type) {
      case "text":
        if (event.text.length === 0) return;
        this.delta(this.openText("message"), event.text);
        return;
      case "thinking": {
        if (event.text.length > 0) this.delta(this.openText("reasoning"), event.text);
        if (event.signature !== undefined) this.openText("reasoning").signature = event.signature;
        return;
      }
      case "tool_call":
        this.toolCall(event);
        return;
      case "logprobs": {
        const open = this.openText("message");
        const wire = openAiLogprobsFromIr(event.logprobs);
        open.logprobs = [...(open.logprobs ?? []), ...wire];
        this.emitDelta("response.output_text.delta", `${open.at},"content_index":0,"delta":"","logprobs":${JSON.stringify(wire)}}`);
        return;
      }
      case "usage":
        this.usage = event.usage;
        return;
      case "finish":
        this.closeAll();
        this.finish = event.finishReason;
        return;
    }
  }

  end(): void {
    if (this.closed) return;
    this.start("", "", undefined);
    this.closeAll();
    const status = statusFromIr(this.finish ?? "stop");
    const response = { ...this.envelope, ...status, output: this.output, usage: this.usage === undefined ? null : usageFromIr(this.usage) };
    this.emit(`response.${status.status}`, { response });
    this.closed = true;
  }

  error(err: GatewayError): void {
    if (this.closed) return;
    // The documented event has code/message/param at the top; OpenAI also nests them under `error`,
    // which is what makes the SDKs raise an APIError: send both.
    const rendered = renderResponsesError(err).body as { error: WireObject };
    this.emit("error", { code: err.code, message: err.message, param: err.param ?? null, error: rendered.error });
    this.closed = true;
  }

  private start(id: string, model: string, created: number | undefined): void {
    if (this.envelope !== undefined) return;
    this.envelope = responseEnvelope(id.length > 0 ? id : itemId("resp"), model.length > 0 ? model : this.request.model, created ?? Math.floor(Date.now() / 1000), this.request);
    this.emit("response.created", { response: this.envelope });
    this.emit("response.in_progress", { response: this.envelope });
  }

  private openText(kind: "message" | "reasoning"): OpenText {
    if (this.current?.kind === kind) return this.current;
    this.closeAll();
    const outputIndex = this.output.length;
    const id = itemId(kind === "message" ? "msg" : "rs");
    const item = kind === "message" ? messageItem(id, [], "in_progress") : reasoningItem(id, "", undefined);
    this.output.push(item);
    this.emit("response.output_item.added", { output_index: outputIndex, item });
    if (kind === "message") this.emit("response.content_part.added", { item_id: id, output_index: outputIndex, content_index: 0, part: outputText("") });
    this.current = { kind, id, outputIndex, text: "", at: itemAt(id, outputIndex), summaryOpen: false };
    return this.current;
  }

  private delta(open: OpenText, text: string): void {
    open.text += text;
    if (open.kind === "message") {
      this.emitDelta("response.output_text.delta", `${open.at},"content_index":0,"delta":${JSON.stringify(text)},"logprobs":[]}`);
      return;
    }
    if (!open.summaryOpen) {
      open.summaryOpen = true;
      this.emit("response.reasoning_summary_part.added", { item_id: open.id, output_index: open.outputIndex, summary_index: 0, part: { type: "summary_text", text: "" } });
    }
    this.emitDelta("response.reasoning_summary_text.delta", `${open.at},"summary_index":0,"delta":${JSON.stringify(text)}}`);
  }

  private toolCall(event: Extract<IrStreamEvent, { type: "tool_call" }>): void {
    const open = this.openCalls.get(event.index) ?? this.doneCalls.get(event.index);
    if (open === undefined) {
      this.closeText();
      const id = itemId("fc");
      const outputIndex = this.output.length;
      const call: OpenCall = { id, outputIndex, callId: event.id ?? itemId("call"), name: event.name ?? "", args: "", at: itemAt(id, outputIndex) };
      this.openCalls.set(event.index, call);
      const item = functionCallItem(call.id, call.callId, call.name, "", "in_progress");
      this.output.push(item);
      this.emit("response.output_item.added", { output_index: call.outputIndex, item });
      this.argumentsDelta(call, event.argumentsDelta);
      return;
    }
    this.argumentsDelta(open, event.argumentsDelta);
  }

  private argumentsDelta(call: OpenCall, delta: string): void {
    if (delta.length === 0) return;
    call.args += delta;
    this.emitDelta("response.function_call_arguments.delta", `${call.at},"delta":${JSON.stringify(delta)}}`);
  }

  private closeText(): void {
    const open = this.current;
    if (open === undefined) return;
    this.current = undefined;
    const at = { item_id: open.id, output_index: open.outputIndex };
    let item: WireObject;
    if (open.kind === "message") {
      const logprobs = open.logprobs ?? [];
      this.emit("response.output_text.done", { ...at, content_index: 0, text: open.text, logprobs });
      this.emit("response.content_part.done", { ...at, content_index: 0, part: { ...outputText(open.text), logprobs } });
      item = messageItem(open.id, [open.text], "completed");
      (item.content as WireObject[])[0]!.logprobs = logprobs;
    } else {
      if (open.summaryOpen) {
        this.emit("response.reasoning_summary_text.done", { ...at, summary_index: 0, text: open.text });
        this.emit("response.reasoning_summary_part.done", { ...at, summary_index: 0, part: { type: "summary_text", text: open.text } });
      }
      item = reasoningItem(open.id, open.text, open.signature);
    }
    this.output[open.outputIndex] = item;
    this.emit("response.output_item.done", { output_index: open.outputIndex, item });
  }

  private closeAll(): void {
    this.closeText();
    for (const [index, call] of this.openCalls) {
      this.emit("response.function_call_arguments.done", { item_id: call.id, output_index: call.outputIndex, name: call.name, arguments: call.args });
      const item = functionCallItem(call.id, call.callId, call.name, call.args, "completed");
      this.output[call.outputIndex] = item;
      this.emit("response.output_item.done", { output_index: call.outputIndex, item });
      this.doneCalls.set(index, call);
    }
    this.openCalls.clear();
  }

  /**
   * A delta event written as text: byte for byte what `emit` gives for `{item_id, output_index,
   * …fields}`, without building and walking an object for each of the dozens of deltas in a
   * stream. `rest` is the item's `at`, the remaining fields and the closing brace.
   */
  private emitDelta(type: string, rest: string): void {
    this.write(`event: ${type}\ndata: {"type":"${type}","sequence_number":${this.sequence++},${rest}\n\n`);
  }

  private emit(type: string, fields: WireObject): void {
    this.write(sseFrame(JSON.stringify({ type, sequence_number: this.sequence++, ...fields }), type));
  }
}
