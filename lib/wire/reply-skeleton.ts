/**
 * Usage and finish reason of a whole upstream reply, read without decoding its long strings.
 *
 * A same-format reply reaches the client as the bytes that came, and the gateway reads only its
 * usage and finish reason from it. JSON.parse would still decode every string of the reply: for
 * 30 KB of model prose (escapes, text beyond ASCII), 59–82 µs in a micro-benchmark, against 11–14
 * through the skeleton (issue 12). Here a WebAssembly scanner (string-spans.wat) checks
 * every string of the reply byte by byte, exactly as JSON's grammar does, and says where the long
 * ones are; JSON.parse then reads a skeleton of the reply, each long string's content replaced by
 * `\u0000`.
 *
 * Why this answers as the full parse would:
 * - the scanner finds strings the way a JSON lexer does (outside a string, a `"` opens one), and
 *   each interior it elides is valid; so if the skeleton parses, the reply has the same tokens and
 *   is valid JSON too, and every value outside the elided strings reads the same;
 * - whenever the scanner or the skeleton's parse says no, the caller parses the whole reply as
 *   before, which accepts it or refuses it with the same error as ever;
 * - usage is numbers, which are never elided; a finish reason that reads as the elision mark was
 *   one, and sends the reply to the full parse.
 */
import type { IrUsage, ReplyFacts } from "../../core/index.js";
import { STRING_SPANS_WASM } from "./string-spans.generated.js";

/** Strings shorter than this are cheap to decode: eliding them would cost more than it saves. */
export const ELIDED_FROM_BYTES = 256;
/** A longer reply takes the full parse: the scanner's memory grows to the largest reply and never shrinks. */
const MAX_REPLY_BYTES = 1 << 20;
/** What an elided string reads as in the skeleton. */
export const ELIDED = "\u0000";

/** The little of WebAssembly used here (the compiler's libs here leave out DOM, which declares it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
};
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface Scanner {
  readonly memory: WasmMemory;
  readonly scan: (len: number, out: number, min: number) => number;
  /** Views of the memory, remade when it grows: the text goes in as bytes, the spans come out as words. */
  bytes: Uint8Array;
  words: Int32Array;
}

let scanner: Scanner | null | undefined;

/** Compiled on first use; null where WebAssembly SIMD is missing (every reply then takes the full parse). */
function loadScanner(): Scanner | null {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(STRING_SPANS_WASM, "base64")));
    const { memory, scan } = instance.exports as { memory: WasmMemory; scan: Scanner["scan"] };
    return { memory, scan, bytes: new Uint8Array(memory.buffer), words: new Int32Array(memory.buffer) };
  } catch {
    return null;
  }
}

/**
 * The reply parsed with each string of ELIDED_FROM_BYTES or more read as ELIDED (keys too), or
 * undefined when only the full parse can tell: a reply that is not valid JSON, or one too large.
 */
export function parseSkeleton(raw: Buffer): unknown {
  if (raw.length > MAX_REPLY_BYTES) return undefined;
  const s = (scanner ??= loadScanner());
  if (s === null) return undefined;
  // The spans go after the text, 8-aligned; a span covers at least ELIDED_FROM_BYTES bytes.
  const out = (raw.length + 15) & ~7;
  const needed = out + 8 * (Math.ceil(raw.length / ELIDED_FROM_BYTES) + 1);
  if (needed > s.memory.buffer.byteLength) {
    s.memory.grow(Math.ceil((needed - s.memory.buffer.byteLength) / 65_536));
    s.bytes = new Uint8Array(s.memory.buffer);
    s.words = new Int32Array(s.memory.buffer);
  }
  s.bytes.set(raw, 0);
  const count = s.scan(raw.length, out, ELIDED_FROM_BYTES);
  if (count < 0) return undefined;
  // Pieces end and start at a quote, which no UTF-8 sequence contains: decoded apart, they read as decoded whole.
  let text = "";
  let at = 0;
  for (let k = 0, word = out >> 2; k < count; k++, word += 2) {
    text += raw.toString("utf8", at, s.words[word]) + "\\u0000";
    at = s.words[word + 1]!;
  }
  text += raw.toString("utf8", at);
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A format's replyFacts from its own readers: `usageOf` must read numbers only, `finishReasonOf` short strings. */
export function replyFactsFromSkeleton(
  raw: Buffer, usageOf: (body: unknown) => IrUsage | undefined, finishReasonOf: (body: unknown) => string | undefined,
): ReplyFacts | undefined {
  const skeleton = parseSkeleton(raw);
  if (skeleton === undefined) return undefined;
  const finishReason = finishReasonOf(skeleton);
  return finishReason === ELIDED ? undefined : { usage: usageOf(skeleton), finishReason };
}
