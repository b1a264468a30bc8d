/**
 * The events of one stream repeat one shape: text deltas are the same envelope (ids, model,
 * indexes, nulls) around a different string each time. An EventShape learns that envelope from an
 * event its JsonScanner read in full, then reads the next events by comparing their text with the
 * envelope and checking only the values that vary.
 *
 * Why: V8's JSON.parse is native and a scanner written in JS is barely faster (it still visits
 * every character in JS); comparing a whole envelope with one string equality is several times
 * cheaper than either, and it is what made translated streams cost little per event.
 *
 * Exactness: an event matches when its text is the envelope's text with, at each varying place, a
 * well-formed value of the same JSON type. Such a text is valid JSON with the same structure and
 * the same values wherever the caller looked, so the caller's full reading would decide the same
 * kind and differ only in the captured values, which the match reads out.
 */
import { decodeString, numberEnd, stringEnd } from "./json-literals.js";
import { CAPTURE_NUMBER, CAPTURE_RAW, CAPTURE_STRING, FREE_STRING, JsonScanner } from "./json-scan.js";

/**
 * Reads one event in full with the scanner: the caller's kind for it (> 0), or 0 to decline it.
 * It decides from the event's structure and the values it reads with `string()`, `number()`,
 * `null()`… never from what it captures, whose content may differ in events matched later.
 */
type ScanEvent = (scan: JsonScanner) => number;

export class EventShape {
  private readonly scanner = new JsonScanner();
  /** Skips raw captures while matching; kept apart so the scanner's captures stay intact. */
  private skipper: JsonScanner | undefined;
  private readonly escaped = { value: false };
  /** The kind of the event the envelope was learned from; 0 before any. */
  private kind = 0;
  private sample = "";
  private sampleSpans: number[] = [];
  /** Per span of the sample: whether its value differed between events of this shape. */
  private varies: boolean[] = [];
  /** The envelope: literal runs of text, with a hole (a span code) between each two. */
  private runs: string[] = [];
  private holes: number[] = [];

  constructor(private readonly scanEvent: ScanEvent) {}

  /**
   * The kind of the event in `text` (> 0), with its captures readable by tag until the next read;
   * 0 when the caller must read it its own way.
   */
  read(text: string): number {
    if (this.kind !== 0 && this.match(text)) return this.kind;
    const kind = this.scanEvent(this.scanner.reset(text));
    if (kind <= 0 || !this.scanner.end()) {
      // Keeps what a declined read captured from looking like a later match's captures, which
      // set exactly the envelope's tags and so never clear the others themselves.
      this.scanner.values.length = 0;
      return 0;
    }
    this.learn(text, kind);
    return kind;
  }

  /** A captured string of the last event read (undefined when that event had none under `tag`). */
  text(tag: number): string | undefined {
    const value = this.scanner.values[tag];
    return typeof value === "string" ? value : undefined;
  }

  /** A captured value of the last event read, as JSON text (see `JsonScanner.captureRaw`). */
  raw(tag: number): string | undefined {
    return this.text(tag);
  }

  /** A captured number of the last event read. */
  number(tag: number): number | undefined {
    const value = this.scanner.values[tag];
    return typeof value === "number" ? value : undefined;
  }

  private match(text: string): boolean {
    const { runs, holes } = this;
    let pos = 0;
    for (let i = 0; i < holes.length; i++) {
      const run = runs[i]!;
      if (text.slice(pos, pos + run.length) !== run) return false;
      pos += run.length;
      const code = holes[i]!;
      const end = code < 0 ? this.freeEnd(text, pos, code) : this.capture(text, pos, code);
      if (end === -1) return false;
      pos = end;
    }
    const last = runs[holes.length]!;
    return text.length - pos === last.length && text.slice(pos) === last;
  }

  /** Checks a varying skipped value; its end, or -1. */
  private freeEnd(text: string, at: number, code: number): number {
    return code === FREE_STRING ? stringEnd(text, at, this.escaped) : numberEnd(text, at);
  }

  /** Checks and reads out a captured value; its end, or -1. */
  private capture(text: string, at: number, code: number): number {
    const values = this.scanner.values;
    const tag = code >> 2;
    switch (code & 3) {
      case CAPTURE_STRING: {
        const end = stringEnd(text, at, this.escaped);
        if (end !== -1) values[tag] = decodeString(text, at, end, this.escaped.value);
        return end;
      }
      case CAPTURE_NUMBER: {
        const end = numberEnd(text, at);
        if (end !== -1) values[tag] = Number(text.slice(at, end));
        return end;
      }
      case CAPTURE_RAW: {
        const end = (this.skipper ??= new JsonScanner()).valueEnd(text, at);
        if (end !== -1) values[tag] = text.slice(at, end);
        return end;
      }
      default:
        return -1;
    }
  }

  /**
   * Takes `text` (just read in full) as the envelope. When it has the previous envelope's
   * structure, the skipped values that differ between the two become holes too (OpenAI's
   * per-chunk `obfuscation`, a Responses `sequence_number`); the rest stay literal text, which is
   * cheaper to compare than to check.
   */
  private learn(text: string, kind: number): void {
    const spans = this.scanner.spans;
    const count = spans.length / 3;
    const same = this.kind !== 0 && this.sameStructure(text, spans);
    const varies = same ? this.varies : new Array<boolean>(count).fill(false);
    if (same) {
      const old = this.sampleSpans;
      for (let i = 0; i < count; i++) {
        if (!varies[i] && text.slice(spans[3 * i]!, spans[3 * i + 1]!) !== this.sample.slice(old[3 * i]!, old[3 * i + 1]!)) varies[i] = true;
      }
    }
    this.kind = kind;
    this.sample = text;
    this.sampleSpans = spans.slice();
    this.varies = varies;
    this.runs = [];
    this.holes = [];
    let from = 0;
    for (let i = 0; i < count; i++) {
      const code = spans[3 * i + 2]!;
      if (code < 0 && !varies[i]) continue;
      this.runs.push(text.slice(from, spans[3 * i]!));
      this.holes.push(code);
      from = spans[3 * i + 1]!;
    }
    this.runs.push(text.slice(from));
  }

  /** Whether `text` differs from the sample only inside the value spans, with the same codes. */
  private sameStructure(text: string, spans: number[]): boolean {
    const old = this.sampleSpans;
    if (old.length !== spans.length) return false;
    let fromOld = 0;
    let fromNew = 0;
    for (let i = 0; i < spans.length; i += 3) {
      if (old[i + 2] !== spans[i + 2]) return false;
      if (this.sample.slice(fromOld, old[i]) !== text.slice(fromNew, spans[i])) return false;
      fromOld = old[i + 1]!;
      fromNew = spans[i + 1]!;
    }
    return this.sample.slice(fromOld) === text.slice(fromNew);
  }
}
