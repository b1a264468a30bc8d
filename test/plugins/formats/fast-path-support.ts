/**
 * Test support for the stream fast paths (decoders reading events by their shape, encoders writing
 * deltas as text): text that stresses JSON string escaping, chunk texts in any key order, and a
 * reference reading of the same stream that is forced down the JSON.parse path.
 */
import fc from "fast-check";
import { vi } from "vitest";
import { GatewayError, type FormatTranslator, type IrStreamEvent } from "../../../core/index.js";
import { decodeSseError } from "./stream-support.js";

const AWKWARD = ['"', "\\", "\\u", "/", "\n", "\r", "\t", "\b", "\f", "\u0000", "\u001f", "\u007f", "\u2028", "\u2029", "\ud83d\ude00", "\ud800", "\udc00", "é", "中", "\ufeff", "<", "{", "}", ":", ",", "[", "]", " ", "a", "null"];

/** Text deltas that stress JSON strings: quotes, backslashes, control characters, line separators, lone and paired surrogates. */
export const awkwardText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.array(fc.constantFrom(...AWKWARD), { maxLength: 10 }).map((parts) => parts.join("")),
);

/** JSON text of a value, optionally the way Python servers write it (every non-ASCII character as \uXXXX). */
export function jsonOf(value: unknown, ascii = false): string {
  const text = JSON.stringify(value);
  return ascii ? text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : text;
}

export interface TextStyle {
  /** A space after every `:` and `,` (whitespace the fast path must accept too). */
  spaced: boolean;
  ascii: boolean;
}

export const textStyle: fc.Arbitrary<TextStyle> = fc.record({ spaced: fc.boolean(), ascii: fc.boolean() });

/** A JSON object's text with its entries in exactly this order. Values that are `Raw` are written as they are. */
export function objectText(entries: Array<readonly [string, unknown]>, style: TextStyle = { spaced: false, ascii: false }): string {
  const colon = style.spaced ? ": " : ":";
  const comma = style.spaced ? ", " : ",";
  return `{${entries.map(([k, v]) => `${jsonOf(k)}${colon}${v instanceof Raw ? v.text : jsonOf(v, style.ascii)}`).join(comma)}}`;
}

/** Already-written JSON inside objectText (a nested object written in its own key order). */
export class Raw {
  constructor(readonly text: string) {}
}

/**
 * The same object with an extra key written with an escape in front: JSON.parse reads the same
 * (an ignored key), while the fast paths decline escaped keys. Decoding chunks rewritten so is the
 * JSON.parse path's reading, to compare the fast path's with.
 */
export function forcedSlow(objectJson: string): string {
  return `{"\\u0078_slow":0,${objectJson.slice(1)}`;
}

/** Frames data texts as SSE, with an `event:` line when `named` gives the event's name. */
export function sseOf(datas: string[], named?: (data: string) => string | undefined): string {
  return datas
    .map((data) => {
      const name = named?.(data);
      return name === undefined ? `data: ${data}\n\n` : `event: ${name}\ndata: ${data}\n\n`;
    })
    .join("");
}

export interface DecodeOutcome {
  events: IrStreamEvent[];
  error: { status: number; code: string; message: string } | undefined;
}

/** Decodes an SSE text into IR events and the error that ended it, if any. */
export function decodeOutcome(translator: FormatTranslator, sse: string): DecodeOutcome {
  const { events, error } = decodeSseError(translator, sse);
  if (error !== undefined && !(error instanceof GatewayError)) throw error;
  return { events, error: error === undefined ? undefined : { status: error.status, code: error.code, message: error.message } };
}

/** How many of `datas` went through JSON.parse while `run` ran: the events the fast path declined. */
export function parsedWhole<T>(datas: string[], run: () => T): { result: T; parsed: number } {
  const texts = new Set(datas.map((d) => d.trim()));
  const spy = vi.spyOn(JSON, "parse");
  try {
    const result = run();
    return { result, parsed: spy.mock.calls.filter(([text]) => typeof text === "string" && texts.has(text.trim())).length };
  } finally {
    spy.mockRestore();
  }
}

/** The SSE events of an encoder's output: `event:` name and data text, in order. */
export function framesOf(sse: string): Array<{ event?: string; data: string }> {
  return sse
    .split("\n\n")
    .filter((block) => block.length > 0)
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7);
      const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      return event === undefined ? { data } : { event, data };
    });
}
