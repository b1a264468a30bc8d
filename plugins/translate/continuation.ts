/**
 * Continuing a stream that broke: the request that asks the next backend for the rest, in each
 * backend format's own way, and the client's stream as it lives across attempts (one encoder,
 * so the client sees one start, one finish and one usage, whatever number of upstreams served it).
 */
import type { AttemptOutcome, GatewayError, IrRequest, IrStreamEvent, IrUsage, SseTextSink, StreamEncoder, FormatTranslator } from "../../core/index.js";

const PLUGIN = "translate";

/** For formats without an assistant prefill: the partial answer goes back as the assistant's turn, then this. */
export const CONTINUE_INSTRUCTION = "Your previous reply was cut off. Continue it from exactly where it stopped: do not repeat any of it and do not comment, write only the rest.";

/**
 * The request for the rest of `partial`. Anthropic continues an assistant message that ends the
 * conversation (a prefill), which may not end in whitespace: the whitespace left off is counted,
 * so the same amount can be taken off the front of the continuation. OpenAI's and Gemini's
 * formats have no prefill: the partial answer becomes the assistant's turn, and a user turn asks
 * for the rest.
 */
export function continuationRequest(ir: IrRequest, partial: string, backendFormat: string): { request: IrRequest; trimmed: number } {
  if (partial === "") return { request: ir, trimmed: 0 };
  if (backendFormat === "anthropic-messages") {
    const kept = partial.trimEnd();
    return { request: { ...ir, messages: [...ir.messages, { role: "assistant", content: [{ type: "text", text: kept }] }] }, trimmed: partial.length - kept.length };
  }
  const messages = [...ir.messages, { role: "assistant" as const, content: [{ type: "text" as const, text: partial }] }, { role: "user" as const, content: [{ type: "text" as const, text: CONTINUE_INSTRUCTION }] }];
  return { request: { ...ir, messages }, trimmed: 0 };
}

function addUsage(a: IrUsage | undefined, b: IrUsage | undefined): IrUsage | undefined {
  if (!a || !b) return a ?? b;
  const sum: IrUsage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  for (const key of ["cachedReadTokens", "cacheWriteTokens", "reasoningTokens"] as const) {
    if (a[key] !== undefined || b[key] !== undefined) sum[key] = (a[key] ?? 0) + (b[key] ?? 0);
  }
  return sum;
}

/** The client's stream across attempts: the text it got, and whether it may still be continued. */
export class ClientStream {
  private sink: SseTextSink;
  private readonly encoder: StreamEncoder;
  /** The text the client got so far, over every attempt. */
  text = "";
  /** What makes a continuation wrong: the client got a tool call or reasoning a second backend cannot pick up. */
  private blocked: string | undefined;
  private continuations = 0;
  /** Broken, and waiting for the next attempt to continue it. */
  suspended = false;
  /** This attempt continues an earlier one: its own start event is not the client's. */
  private resumed = false;
  /** Whitespace the prefill left off, taken off the continuation's first text. */
  private skipWhitespace = 0;
  /** Usage of the attempts that broke, and of the current one. */
  private earlier: IrUsage | undefined;
  private current: IrUsage | undefined;

  /** `outcome`: the attempt relaying now, which gets its own usage, to be priced at its own backend. */
  constructor(client: FormatTranslator, clientIr: IrRequest, write: SseTextSink, private readonly maxContinuations: number, private outcome: AttemptOutcome) {
    this.sink = write;
    this.encoder = client.createStreamEncoder(clientIr, (text) => this.sink(text));
  }

  get usage(): IrUsage | undefined {
    return addUsage(this.earlier, this.current);
  }

  /** The next attempt took over: its relay writes now. */
  resume(write: SseTextSink, trimmed: number, outcome: AttemptOutcome): void {
    this.sink = write;
    this.outcome = outcome;
    this.suspended = false;
    this.resumed = true;
    this.skipWhitespace = trimmed;
  }

  push(event: IrStreamEvent): void {
    switch (event.type) {
      case "start":
        if (this.resumed) return;
        break;
      case "text": {
        let text = event.text;
        if (this.skipWhitespace > 0) {
          const lead = text.length - text.trimStart().length;
          const cut = Math.min(lead, this.skipWhitespace);
          text = text.slice(cut);
          // Only the very start of the continuation may repeat it: once other text came, stop looking.
          this.skipWhitespace = text === "" ? this.skipWhitespace - cut : 0;
          if (text === "") return;
          event = { type: "text", text };
        }
        this.text += text;
        break;
      }
      case "thinking":
        this.blocked ??= "reasoning";
        break;
      case "tool_call":
        this.blocked ??= "a tool call";
        break;
      case "usage":
        this.current = this.outcome.usage = event.usage;
        event = { type: "usage", usage: this.usage! };
        break;
    }
    this.encoder.push(event);
  }

  /** The upstream broke: keep the stream for the next attempt when it may be continued (noted on the record either way). */
  suspend(err: GatewayError, notes: string[]): boolean {
    const refuse = (why: string) => (notes.push(`${PLUGIN}: stream broke (${err.code}) and was not continued: ${why}`), false);
    if (this.blocked) return refuse(`it carried ${this.blocked}`);
    if (this.continuations >= this.maxContinuations) return refuse(`${this.maxContinuations} continuation(s) already made`);
    this.earlier = this.usage;
    this.current = undefined;
    this.continuations++;
    this.suspended = true;
    notes.push(`${PLUGIN}: stream broke (${err.code}) after ${this.text.length} characters; continued on the next attempt`);
    return true;
  }

  end(): void {
    this.encoder.end();
  }

  error(err: GatewayError): void {
    this.encoder.error(err);
  }
}
