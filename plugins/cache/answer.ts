/**
 * A cached answer is kept in IR (an IrResponse), whichever format the upstream spoke and whether
 * it streamed: so a plain answer can be replayed as a stream, a streamed one as a plain reply,
 * and either in any client format. This file turns an upstream's captured reply into that IR and
 * the IR back into stream events.
 */
import type { FormatTranslator, IrPart, IrResponse, IrStreamEvent, IrTokenLogprob, IrUsage } from "../../core/index.js";
import { SseParser } from "../../lib/wire/sse.js";

/** The upstream reply's bytes, in `format`, as IR; undefined when it is not a whole, finished answer. */
export function answerOf(translator: FormatTranslator, streamed: boolean, bytes: Buffer): IrResponse | undefined {
  try {
    if (!streamed) return translator.responseToIr(JSON.parse(bytes.toString("utf8")));
    const collector = new AnswerCollector();
    const decoder = translator.createStreamDecoder((event) => collector.push(event));
    const parser = new SseParser((event) => decoder.push(event));
    parser.push(bytes);
    decoder.end();
    return collector.response();
  } catch {
    // A reply the format's own reader refuses is no answer to keep; the client already has it as it came.
    return undefined;
  }
}

/** Stream events -> the response they make up, as a plain reply would have carried it. */
export class AnswerCollector {
  private start: { id: string; model: string; created?: number } | undefined;
  private readonly content: IrPart[] = [];
  /** Tool calls by their stream index, in the order they opened. */
  private readonly toolCalls = new Map<number, { type: "tool_call"; id: string; name: string; arguments: string }>();
  private usage: IrUsage | undefined;
  private logprobs: IrTokenLogprob[] | undefined;
  private finish: { finishReason: IrResponse["finishReason"]; stopSequence?: string } | undefined;

  push(event: IrStreamEvent): void {
    const last = this.content[this.content.length - 1];
    switch (event.type) {
      case "start":
        this.start = event;
        break;
      case "text":
        if (last?.type === "text") last.text += event.text;
        else this.content.push({ type: "text", text: event.text });
        break;
      case "thinking":
        if (last?.type === "thinking" && last.signature === undefined) last.text += event.text;
        else this.content.push({ type: "thinking", text: event.text });
        if (event.signature !== undefined) (this.content[this.content.length - 1] as { signature?: string }).signature = event.signature;
        break;
      case "tool_call": {
        let call = this.toolCalls.get(event.index);
        if (!call) {
          call = { type: "tool_call", id: event.id ?? "", name: event.name ?? "", arguments: "" };
          this.toolCalls.set(event.index, call);
          this.content.push(call);
        }
        if (event.id) call.id = event.id;
        if (event.name) call.name = event.name;
        call.arguments += event.argumentsDelta;
        break;
      }
      case "logprobs":
        (this.logprobs ??= []).push(...event.logprobs);
        break;
      case "usage":
        this.usage = event.usage;
        break;
      case "finish":
        this.finish = { finishReason: event.finishReason, ...(event.stopSequence === undefined ? {} : { stopSequence: event.stopSequence }) };
        break;
    }
  }

  /** The whole response; undefined when the stream never said it finished (it broke off, or failed). */
  response(): IrResponse | undefined {
    if (!this.start || !this.finish || this.finish.finishReason === "error") return undefined;
    return {
      id: this.start.id,
      model: this.start.model,
      created: this.start.created ?? Math.floor(Date.now() / 1000),
      content: this.content,
      ...this.finish,
      ...(this.usage === undefined ? {} : { usage: this.usage }),
      ...(this.logprobs === undefined ? {} : { logprobs: this.logprobs }),
    };
  }
}

/** A response as the stream events that carry it: start, one delta per part, usage, finish. */
export function eventsOf(response: IrResponse): IrStreamEvent[] {
  const events: IrStreamEvent[] = [{ type: "start", id: response.id, model: response.model, created: response.created }];
  let toolIndex = 0;
  for (const part of response.content) {
    if (part.type === "text") events.push({ type: "text", text: part.text });
    else if (part.type === "thinking") events.push({ type: "thinking", text: part.text, ...(part.signature === undefined ? {} : { signature: part.signature }) });
    else if (part.type === "tool_call") events.push({ type: "tool_call", index: toolIndex++, id: part.id, name: part.name, argumentsDelta: part.arguments });
  }
  if (response.logprobs) events.push({ type: "logprobs", logprobs: response.logprobs });
  if (response.usage) events.push({ type: "usage", usage: response.usage });
  events.push({ type: "finish", finishReason: response.finishReason, ...(response.stopSequence === undefined ? {} : { stopSequence: response.stopSequence }) });
  return events;
}
