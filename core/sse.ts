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

/**
 * Incremental SSE parser (WHATWG rules for `event` and `data`; `id`/`retry` are irrelevant upstream-side).
 *
 * With `passKept`, it also hands back the stream's own text minus the events `onEvent` returned
 * false for: one call per `push` with every kept event that completed in it, as the upstream
 * wrote it (comments and line endings included). A relay that drops a few events writes that
 * instead of re-framing every event it keeps.
 */
export class SseParser {
  private readonly decoder = new StringDecoder("utf8");
  /** The last, incomplete line. */
  private buffer = "";
  private eventName: string | undefined;
  private dataLines: string[] = [];
  /** passKept only: the complete lines of the event still open, as received. */
  private openEventText = "";

  constructor(
    /** Returning `false` drops the event from what `passKept` gets; any other value keeps it. */
    private readonly onEvent: (event: SseEvent) => unknown,
    private readonly passKept?: (text: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.buffer + (typeof chunk === "string" ? chunk : this.decoder.write(chunk));
    let start = 0;
    // passKept: text[keptFrom, eventFrom) is kept complete events not yet handed on; `carried`
    // is the open event's text from earlier pushes, which belongs before text[0].
    let carried = this.openEventText;
    let keptFrom = 0;
    let eventFrom = 0;
    let kept = "";
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl === -1) break;
      let end = nl;
      if (end > start && text.charCodeAt(end - 1) === 13) end--; // CRLF
      const keep = this.line(text.slice(start, end));
      start = nl + 1;
      if (keep === undefined) continue; // not the end of an event
      if (this.passKept) {
        if (keep) kept += carried;
        else {
          kept += text.slice(keptFrom, eventFrom);
          keptFrom = start;
        }
        carried = "";
      }
      eventFrom = start;
    }
    this.buffer = start === 0 ? text : text.slice(start);
    if (this.passKept) {
      kept += text.slice(keptFrom, eventFrom);
      this.openEventText = carried + text.slice(eventFrom, start);
      if (kept !== "") this.passKept(kept);
    }
  }

  /** The upstream ended: a final event without its blank line still counts. */
  end(): void {
    const rest = this.buffer + this.decoder.end();
    this.buffer = "";
    if (rest.length > 0) this.line(rest.replace(/\r$/, ""));
    const keep = this.dispatch();
    const text = this.openEventText + rest;
    this.openEventText = "";
    if (this.passKept && keep !== false && text !== "") this.passKept(text);
  }

  /** Undefined for a line inside an event; at an event's end (a blank line), whether to keep it. */
  private line(line: string): boolean | undefined {
    if (line.length === 0) return this.dispatch();
    if (line.charCodeAt(0) === 58) return undefined; // ":" comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") this.dataLines.push(value);
    else if (field === "event") this.eventName = value;
    return undefined;
  }

  private dispatch(): boolean {
    if (this.dataLines.length === 0) {
      this.eventName = undefined;
      return true;
    }
    const data = this.dataLines.length === 1 ? this.dataLines[0]! : this.dataLines.join("\n");
    const event: SseEvent = this.eventName === undefined ? { data } : { event: this.eventName, data };
    this.dataLines = [];
    this.eventName = undefined;
    return this.onEvent(event) !== false;
  }
}

/** Frames one SSE event; multi-line data becomes one `data:` line per line, as the parser joined them. */
export function sseFrame(data: string, event?: string): string {
  const lines = data.includes("\n") ? data.split("\n").join("\ndata: ") : data;
  return event === undefined ? `data: ${lines}\n\n` : `event: ${event}\ndata: ${lines}\n\n`;
}

/** A comment line: keeps idle proxies from closing a quiet stream. */
export const SSE_KEEPALIVE = ": keep-alive\n\n";
