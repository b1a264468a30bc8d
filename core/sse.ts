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
  /** The event's data lines so far, joined by "\n"; undefined before its first. */
  private data: string | undefined;
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
      const keep = this.line(text, start, end);
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
    if (rest.length > 0) this.line(rest, 0, rest.charCodeAt(rest.length - 1) === 13 ? rest.length - 1 : rest.length);
    const keep = this.dispatch();
    const text = this.openEventText + rest;
    this.openEventText = "";
    if (this.passKept && keep !== false && text !== "") this.passKept(text);
  }

  /**
   * The line `text[start, end)`, read in place: a stream is mostly `data:` lines, which cost one
   * slice each. Undefined for a line inside an event; at an event's end (a blank line), whether
   * to keep it.
   */
  private line(text: string, start: number, end: number): boolean | undefined {
    if (start === end) return this.dispatch();
    const first = text.charCodeAt(start);
    if (first === 58) return undefined; // ":" comment / keep-alive
    if (first === 100 && text.startsWith("data:", start)) {
      const from = text.charCodeAt(start + 5) === 32 && start + 5 < end ? start + 6 : start + 5;
      this.addData(text.slice(from, end));
      return undefined;
    }
    const colon = text.indexOf(":", start);
    const field = colon === -1 || colon >= end ? text.slice(start, end) : text.slice(start, colon);
    let from = colon === -1 || colon >= end ? end : colon + 1;
    if (from < end && text.charCodeAt(from) === 32) from++;
    if (field === "data") this.addData(text.slice(from, end));
    else if (field === "event") this.eventName = text.slice(from, end);
    return undefined;
  }

  private addData(value: string): void {
    this.data = this.data === undefined ? value : `${this.data}\n${value}`;
  }

  private dispatch(): boolean {
    const data = this.data;
    const eventName = this.eventName;
    this.data = undefined;
    this.eventName = undefined;
    if (data === undefined) return true;
    return this.onEvent(eventName === undefined ? { data } : { event: eventName, data }) !== false;
  }
}

/** Frames one SSE event; multi-line data becomes one `data:` line per line, as the parser joined them. */
export function sseFrame(data: string, event?: string): string {
  const lines = data.includes("\n") ? data.split("\n").join("\ndata: ") : data;
  return event === undefined ? `data: ${lines}\n\n` : `event: ${event}\ndata: ${lines}\n\n`;
}

/** A comment line: keeps idle proxies from closing a quiet stream. */
export const SSE_KEEPALIVE = ": keep-alive\n\n";
