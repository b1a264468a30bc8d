/**
 * Server-sent events: a push parser over byte chunks, and the writer side's framing.
 * The parser is synchronous and allocates one object per event, which is all the stream path
 * needs: upstream bytes in, events out, no promise per chunk.
 * It is hand-written rather than eventsource-parser because it parses in place over byte chunks,
 * hands back the text it kept for the relay, and decodes large non-ASCII chunks line by line,
 * none of which that library's string-in, callback-out API can do.
 */
import { isAscii } from "node:buffer";
import { StringDecoder } from "node:string_decoder";

import type { SseEvent } from "../../core/index.js";

/** Chunks up to this size are decoded whole whatever they hold. */
const WHOLE_CHUNK_MAX = 1024;

/**
 * Incremental SSE parser (WHATWG rules for `event` and `data`; `id`/`retry` are irrelevant upstream-side).
 *
 * Large chunks are split into lines before they are decoded: V8 decodes UTF-8 that is not all
 * ASCII several times slower than ASCII (measured 3-8x), into two-byte strings that slow what
 * follows, so one emoji in a 12 KB chunk cost the whole chunk. An all-ASCII chunk is decoded at
 * once; any other large one line by line, so only the lines with non-ASCII text pay. A line
 * break byte never falls inside a multi-byte character, so lines decode on their own.
 *
 * With `passKept`, it also hands back the stream's own text minus the events `onEvent` returned
 * false for: one call per `push` with every kept event that completed in it, as the upstream
 * wrote it (comments and line endings included). A relay that drops a few events writes that
 * instead of re-framing every event it keeps. That mode always decodes whole chunks.
 */
export class SseParser {
  /**
   * passKept only, which decodes whole chunks: made for the first chunk that ends inside a
   * character, since a decoder and its native buffer (~0.25 KB) would be held by every open stream.
   */
  private decoder: StringDecoder | undefined;
  /** The unfinished last line of the text pushed so far. */
  private buffer = "";
  /** The unfinished last line of a chunk that was not all ASCII, as bytes. */
  private partial: Buffer | undefined;
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
    if (this.passKept) return this.pushText(typeof chunk === "string" ? chunk : this.decodeWhole(chunk));
    if (typeof chunk === "string") {
      if (this.partial !== undefined) {
        chunk = this.partial.toString("utf8") + chunk;
        this.partial = undefined;
      }
      return this.pushText(chunk);
    }
    let bytes = chunk;
    if (this.partial !== undefined) {
      bytes = Buffer.concat([this.partial, bytes]);
      this.partial = undefined;
    } else if (this.buffer.length > 0) {
      bytes = Buffer.concat([Buffer.from(this.buffer, "utf8"), bytes]);
      this.buffer = "";
    }
    // Whole: a chunk that ends on a complete character and is small (one or two events: decoding
    // it line by line would cost more calls than it saves) or all ASCII.
    if (bytes[bytes.length - 1]! < 0x80 && (bytes.length <= WHOLE_CHUNK_MAX || isAscii(bytes))) return this.pushText(bytes.toString());
    let start = 0;
    for (;;) {
      const nl = bytes.indexOf(10, start);
      if (nl === -1) break;
      let end = nl;
      if (end > start && bytes[end - 1] === 13) end--; // CRLF
      this.byteLine(bytes, start, end);
      start = nl + 1;
    }
    // A copy: a view would keep the whole chunk alive until the line ends.
    if (start < bytes.length) this.partial = Buffer.from(bytes.subarray(start));
  }

  /** Nothing held between events: the next chunk starts a new event. */
  idle(): boolean {
    return this.buffer === "" && this.partial === undefined && this.data === undefined && this.eventName === undefined && this.openEventText === "";
  }

  /** passKept: a chunk as text; until a decoder holds part of a character, one that ends on a whole character needs none. */
  private decodeWhole(chunk: Buffer): string {
    if (this.decoder === undefined && chunk[chunk.length - 1]! < 0x80) return chunk.toString();
    this.decoder ??= new StringDecoder("utf8");
    return this.decoder.write(chunk);
  }

  /** The upstream ended: a final event without its blank line still counts. */
  end(): void {
    const rest = this.partial !== undefined ? this.partial.toString("utf8") : this.buffer + (this.decoder ? this.decoder.end() : "");
    this.partial = undefined;
    this.buffer = "";
    if (rest.length > 0) this.line(rest, 0, rest.charCodeAt(rest.length - 1) === 13 ? rest.length - 1 : rest.length);
    const keep = this.dispatch();
    const text = this.openEventText + rest;
    this.openEventText = "";
    if (this.passKept && keep && text !== "") this.passKept(text);
  }

  private pushText(text: string): void {
    const buffer = this.buffer + text;
    let start = 0;
    // passKept: buffer[keptFrom, eventFrom) is kept complete events not yet handed on; `carried`
    // is the open event's text from earlier pushes, which belongs before buffer[0].
    let carried = this.openEventText;
    let keptFrom = 0;
    let eventFrom = 0;
    let kept = "";
    for (;;) {
      const nl = buffer.indexOf("\n", start);
      if (nl === -1) break;
      let end = nl;
      if (end > start && buffer.charCodeAt(end - 1) === 13) end--; // CRLF
      const keep = this.line(buffer, start, end);
      start = nl + 1;
      if (keep === undefined || !this.passKept) continue; // inside an event, or nothing to hand back
      if (keep) kept += carried;
      else {
        kept += buffer.slice(keptFrom, eventFrom);
        keptFrom = start;
      }
      carried = "";
      eventFrom = start;
    }
    this.buffer = start === 0 ? buffer : buffer.slice(start);
    if (this.passKept) {
      kept += buffer.slice(keptFrom, eventFrom);
      this.openEventText = carried + buffer.slice(eventFrom, start);
      if (kept !== "") this.passKept(kept);
    }
  }

  /** The line `bytes[start, end)`: a `data:` line decodes only its value. */
  private byteLine(bytes: Buffer, start: number, end: number): void {
    if (start === end) {
      this.dispatch();
      return;
    }
    if (end - start >= 5 && bytes[start] === 100 && bytes[start + 1] === 97 && bytes[start + 2] === 116 && bytes[start + 3] === 97 && bytes[start + 4] === 58) {
      const from = start + 5 < end && bytes[start + 5] === 32 ? start + 6 : start + 5;
      this.addData(bytes.toString("utf8", from, end));
      return;
    }
    const text = bytes.toString("utf8", start, end);
    this.line(text, 0, text.length);
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

  /** Hands on the event the blank line ended; whether to keep it (an empty one is kept). */
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

const EVENT_END_LF = Buffer.from("\n\n");
const EVENT_END_CRLF = Buffer.from("\n\r\n");

/** Does `chunk` end with the blank line that ends an event? */
export function endsOnEventBoundary(chunk: Buffer): boolean {
  const n = chunk.length;
  return n >= 2 && chunk[n - 1] === 10 && (chunk[n - 2] === 10 || (n >= 3 && chunk[n - 2] === 13 && chunk[n - 3] === 10));
}

/**
 * The whole events of `chunk` (which holds whole events only) that contain one of `offsets`
 * (ascending), as [from, to) byte ranges, each event once.
 */
export function eventsAt(chunk: Buffer, offsets: readonly number[]): [number, number][] {
  const spans: [number, number][] = [];
  let covered = 0;
  for (const at of offsets) {
    if (at < covered) continue;
    const lf = chunk.lastIndexOf(EVENT_END_LF, at);
    const crlf = chunk.lastIndexOf(EVENT_END_CRLF, at);
    const from = Math.max(lf < 0 ? 0 : lf + 2, crlf < 0 ? 0 : crlf + 3, covered);
    const lfEnd = chunk.indexOf(EVENT_END_LF, at);
    const crlfEnd = chunk.indexOf(EVENT_END_CRLF, at);
    const to = Math.min(lfEnd < 0 ? chunk.length : lfEnd + 2, crlfEnd < 0 ? chunk.length : crlfEnd + 3);
    spans.push([from, to]);
    covered = to;
  }
  return spans;
}
