/**
 * Server-sent events: a push parser over byte chunks, and the writer side's framing.
 * The parser is synchronous and allocates one object per event, which is all the stream path
 * needs: upstream bytes in, events out, no promise per chunk.
 */
import { StringDecoder } from "node:string_decoder";

export interface SseEvent {
  /** The `event:` field, when the stream names its events (Anthropic, OpenAI Responses). */
  event?: string;
  data: string;
}

/** Incremental SSE parser (WHATWG rules for `event` and `data`; `id`/`retry` are irrelevant upstream-side). */
export class SseParser {
  private readonly decoder = new StringDecoder("utf8");
  private buffer = "";
  private eventName: string | undefined;
  /** The event's data lines so far, joined by "\n"; undefined before its first. */
  private data: string | undefined;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: Buffer | string): void {
    const buffer = this.buffer + (typeof chunk === "string" ? chunk : this.decoder.write(chunk));
    let start = 0;
    for (;;) {
      const nl = buffer.indexOf("\n", start);
      if (nl === -1) break;
      let end = nl;
      if (end > start && buffer.charCodeAt(end - 1) === 13) end--; // CRLF
      this.line(buffer, start, end);
      start = nl + 1;
    }
    this.buffer = start === 0 ? buffer : buffer.slice(start);
  }

  /** The upstream ended: a final event without its blank line still counts. */
  end(): void {
    const rest = this.buffer + this.decoder.end();
    this.buffer = "";
    if (rest.length > 0) this.line(rest, 0, rest.charCodeAt(rest.length - 1) === 13 ? rest.length - 1 : rest.length);
    this.dispatch();
  }

  /** The line `text[start, end)`, read in place: a stream is mostly `data:` lines, which cost one slice each. */
  private line(text: string, start: number, end: number): void {
    if (start === end) return this.dispatch();
    const first = text.charCodeAt(start);
    if (first === 58) return; // ":" comment / keep-alive
    if (first === 100 && text.startsWith("data:", start)) {
      const from = text.charCodeAt(start + 5) === 32 && start + 5 < end ? start + 6 : start + 5;
      this.addData(text.slice(from, end));
      return;
    }
    const colon = text.indexOf(":", start);
    const field = colon === -1 || colon >= end ? text.slice(start, end) : text.slice(start, colon);
    let from = colon === -1 || colon >= end ? end : colon + 1;
    if (from < end && text.charCodeAt(from) === 32) from++;
    if (field === "data") this.addData(text.slice(from, end));
    else if (field === "event") this.eventName = text.slice(from, end);
  }

  private addData(value: string): void {
    this.data = this.data === undefined ? value : `${this.data}\n${value}`;
  }

  private dispatch(): void {
    const data = this.data;
    const eventName = this.eventName;
    this.data = undefined;
    this.eventName = undefined;
    if (data === undefined) return;
    this.onEvent(eventName === undefined ? { data } : { event: eventName, data });
  }
}

/** Frames one SSE event; multi-line data becomes one `data:` line per line, as the parser joined them. */
export function sseFrame(data: string, event?: string): string {
  const lines = data.includes("\n") ? data.split("\n").join("\ndata: ") : data;
  return event === undefined ? `data: ${lines}\n\n` : `event: ${event}\ndata: ${lines}\n\n`;
}

/** A comment line: keeps idle proxies from closing a quiet stream. */
export const SSE_KEEPALIVE = ": keep-alive\n\n";
