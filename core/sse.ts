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
  private dataLines: string[] = [];

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf("\n", start);
      if (nl === -1) break;
      let end = nl;
      if (end > start && this.buffer.charCodeAt(end - 1) === 13) end--; // CRLF
      this.line(this.buffer.slice(start, end));
      start = nl + 1;
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.slice(start);
  }

  /** The upstream ended: a final event without its blank line still counts. */
  end(): void {
    this.buffer += this.decoder.end();
    if (this.buffer.length > 0) {
      this.line(this.buffer.replace(/\r$/, ""));
      this.buffer = "";
    }
    this.dispatch();
  }

  private line(line: string): void {
    if (line.length === 0) return this.dispatch();
    if (line.charCodeAt(0) === 58) return; // ":" comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") this.dataLines.push(value);
    else if (field === "event") this.eventName = value;
  }

  private dispatch(): void {
    if (this.dataLines.length === 0) {
      this.eventName = undefined;
      return;
    }
    const data = this.dataLines.length === 1 ? this.dataLines[0]! : this.dataLines.join("\n");
    const event: SseEvent = this.eventName === undefined ? { data } : { event: this.eventName, data };
    this.dataLines = [];
    this.eventName = undefined;
    this.onEvent(event);
  }
}

/** Frames one SSE event; multi-line data becomes one `data:` line per line, as the parser joined them. */
export function sseFrame(data: string, event?: string): string {
  const lines = data.includes("\n") ? data.split("\n").join("\ndata: ") : data;
  return event === undefined ? `data: ${lines}\n\n` : `event: ${event}\ndata: ${lines}\n\n`;
}

/** A comment line: keeps idle proxies from closing a quiet stream. */
export const SSE_KEEPALIVE = ": keep-alive\n\n";
