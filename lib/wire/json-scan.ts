/**
 * A forward-only reader that checks one JSON text against the shape its caller expects, without
 * building it: the careful half of the stream decoders' fast path (see event-shape.ts).
 *
 * It accepts only what JSON.parse accepts. Whatever it does not handle — malformed text, a key
 * written with escapes (a raw comparison would miss its meaning), nesting deeper than MAX_DEPTH —
 * reads as `undefined` or `false`, and the caller then declines and takes its JSON.parse path,
 * which gives the same answer or the same error.
 *
 * While it reads, it notes where the values are that may differ from one event of a stream to
 * the next: captured strings and numbers (what the caller reads out, such as a text delta) and
 * the scalars it skipped (ids, sequence numbers, padding). Everything else is the event's shape.
 */

import { decodeString, isDigit, numberEnd, stringEnd } from "./json-literals.js";

/**
 * Span codes: a capture is `tag * 4 + CAPTURE_STRING | CAPTURE_NUMBER | CAPTURE_RAW`; a skipped
 * scalar is FREE_STRING or FREE_NUMBER.
 */
export const CAPTURE_STRING = 0;
export const CAPTURE_NUMBER = 1;
export const CAPTURE_RAW = 2;
export const FREE_STRING = -1;
const FREE_NUMBER = -2;

/** Deeper values are declined rather than recursed into; no stream event nests this deep. */
const MAX_DEPTH = 32;

const QUOTE = 0x22;
const MINUS = 0x2d;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

export class JsonScanner {
  private text = "";
  private pos = 0;
  /** Right after `{` or `[`: the next key or item needs no comma before it. */
  private first = false;
  private readonly escaped = { value: false };
  /** Where the values that may vary are: `start, end, code` triples (codes above). */
  readonly spans: number[] = [];
  /** Captured values by tag. */
  readonly values: Array<string | number | undefined> = [];

  /** Starts over on a new text; one scanner serves a whole stream. */
  reset(text: string): this {
    this.text = text;
    this.pos = 0;
    this.first = false;
    this.spans.length = 0;
    this.values.length = 0;
    return this;
  }

  /** Consumes `{`; false when the next value is not an object. */
  enterObject(): boolean {
    if (this.peek() !== OPEN_BRACE) return false;
    this.pos++;
    this.first = true;
    return true;
  }

  /**
   * Consumes the object's next key and its colon and returns the key; `null` at the end of the
   * object (the `}` is consumed); `undefined` on malformed text or a key written with escapes.
   */
  key(): string | null | undefined {
    let c = this.peek();
    if (c === CLOSE_BRACE) {
      this.pos++;
      this.first = false;
      return null;
    }
    if (!this.first) {
      if (c !== COMMA) return undefined;
      this.pos++;
      c = this.peek();
    }
    this.first = false;
    const start = this.pos;
    const end = stringEnd(this.text, start, this.escaped);
    if (end === -1 || this.escaped.value) return undefined;
    this.pos = end;
    if (this.peek() !== COLON) return undefined;
    this.pos++;
    return this.text.slice(start + 1, end - 1);
  }

  /** Consumes `[`; false when the next value is not an array. */
  enterArray(): boolean {
    if (this.peek() !== OPEN_BRACKET) return false;
    this.pos++;
    this.first = true;
    return true;
  }

  /**
   * Moves to the array's next item: true when one follows (read it next), false at the end of the
   * array (the `]` is consumed), `undefined` on malformed text.
   */
  item(): boolean | undefined {
    const c = this.peek();
    if (c === CLOSE_BRACKET) {
      this.pos++;
      this.first = false;
      return false;
    }
    if (!this.first) {
      if (c !== COMMA) return undefined;
      this.pos++;
    }
    this.first = false;
    return true;
  }

  /** A string value the caller decides on (part of the shape); `undefined` when the value is not a string. */
  string(): string | undefined {
    const start = this.skipWhitespace();
    const end = stringEnd(this.text, start, this.escaped);
    if (end === -1) return undefined;
    this.pos = end;
    return decodeString(this.text, start, end, this.escaped.value);
  }

  /**
   * A string value the caller reads out, such as a text delta: it may differ in the next event of
   * the same shape. Its content must not change what the caller decides, only its type may.
   */
  capture(tag: number): string | undefined {
    const start = this.skipWhitespace();
    const value = this.string();
    if (value === undefined) return undefined;
    this.spans.push(start, this.pos, tag * 4 + CAPTURE_STRING);
    this.values[tag] = value;
    return value;
  }

  /** A number value the caller decides on (part of the shape). */
  number(): number | undefined {
    const start = this.skipWhitespace();
    const end = numberEnd(this.text, start);
    if (end === -1) return undefined;
    this.pos = end;
    return Number(this.text.slice(start, end));
  }

  /** A number value the caller reads out (see `capture`). */
  captureNumber(tag: number): number | undefined {
    const start = this.skipWhitespace();
    const value = this.number();
    if (value === undefined) return undefined;
    this.spans.push(start, this.pos, tag * 4 + CAPTURE_NUMBER);
    this.values[tag] = value;
    return value;
  }

  /** Consumes `null`; false (nothing consumed) when the value is anything else. */
  null(): boolean {
    return this.literal("null");
  }

  /** Consumes `true`/`false`; `undefined` (nothing consumed) when the value is not a boolean. */
  boolean(): boolean | undefined {
    if (this.literal("true")) return true;
    if (this.literal("false")) return false;
    return undefined;
  }

  /** Skips one value the caller ignores, checking that it is well-formed; a string or number skipped here may vary. */
  skip(): boolean {
    const start = this.skipWhitespace();
    const c = this.text.charCodeAt(start);
    if (c !== QUOTE && c !== MINUS && !isDigit(c)) return this.skipValue(0);
    const end = c === QUOTE ? stringEnd(this.text, start, this.escaped) : numberEnd(this.text, start);
    if (end === -1) return false;
    this.pos = end;
    this.spans.push(start, end, c === QUOTE ? FREE_STRING : FREE_NUMBER);
    return true;
  }

  /** Any value the caller reads out as text, for JSON.parse of just that part (see `capture`). */
  captureRaw(tag: number): string | undefined {
    const start = this.skipWhitespace();
    if (!this.skipValue(0)) return undefined;
    const value = this.text.slice(start, this.pos);
    this.spans.push(start, this.pos, tag * 4 + CAPTURE_RAW);
    this.values[tag] = value;
    return value;
  }

  /** The end of the well-formed value at `at` in `text`, or -1 (for matching a raw capture). */
  valueEnd(text: string, at: number): number {
    this.text = text;
    this.pos = at;
    this.first = false;
    return this.skipValue(0) ? this.pos : -1;
  }

  /** True when nothing but whitespace is left. */
  end(): boolean {
    return this.skipWhitespace() === this.text.length;
  }

  private skipValue(depth: number): boolean {
    const text = this.text;
    const start = this.skipWhitespace();
    switch (text.charCodeAt(start)) {
      case QUOTE: {
        const end = stringEnd(text, start, this.escaped);
        if (end === -1) return false;
        this.pos = end;
        return true;
      }
      case OPEN_BRACE: {
        if (depth >= MAX_DEPTH) return false;
        this.enterObject();
        for (let key = this.key(); key !== null; key = this.key()) {
          if (key === undefined || !this.skipValue(depth + 1)) return false;
        }
        return true;
      }
      case OPEN_BRACKET: {
        if (depth >= MAX_DEPTH) return false;
        this.enterArray();
        for (let more = this.item(); more !== false; more = this.item()) {
          if (more === undefined || !this.skipValue(depth + 1)) return false;
        }
        return true;
      }
      default: {
        if (this.literal("null") || this.literal("true") || this.literal("false")) return true;
        const end = numberEnd(text, start);
        if (end === -1) return false;
        this.pos = end;
        return true;
      }
    }
  }

  /** Skips whitespace; returns the position after it. */
  private skipWhitespace(): number {
    const text = this.text;
    let pos = this.pos;
    let c = text.charCodeAt(pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++pos);
    this.pos = pos;
    return pos;
  }

  /** The code of the next character after whitespace (NaN at the end). */
  private peek(): number {
    return this.text.charCodeAt(this.skipWhitespace());
  }

  private literal(word: string): boolean {
    const start = this.skipWhitespace();
    if (!this.text.startsWith(word, start)) return false;
    this.pos = start + word.length;
    return true;
  }
}
