/**
 * JSON literals read in place: where a string or number literal ends, and a string's value.
 * The lexical half of JsonScanner, shared with EventShape, which re-reads the values that vary
 * between events of one stream.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * The end (just past the closing quote) of the JSON string literal opening at `at`, or -1 when
 * there is none: no raw control characters, only the escapes RFC 8259 defines. `escaped` says
 * whether it held any escape, i.e. whether decoding it needs JSON.parse.
 */
export function stringEnd(text: string, at: number, escaped: { value: boolean }): number {
  if (text.charCodeAt(at) !== QUOTE) return -1;
  const length = text.length;
  let i = at + 1;
  let escapes = false;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      escaped.value = escapes;
      return i + 1;
    }
    if (c < 0x20) return -1;
    if (c !== BACKSLASH) {
      i++;
      continue;
    }
    escapes = true;
    const e = text.charCodeAt(i + 1);
    if (e === 0x75) {
      // \uXXXX
      if (!isHex(text.charCodeAt(i + 2)) || !isHex(text.charCodeAt(i + 3)) || !isHex(text.charCodeAt(i + 4)) || !isHex(text.charCodeAt(i + 5))) return -1;
      i += 6;
    } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 2; // \" \\ \/ \b \f \n \r \t
    } else {
      return -1;
    }
  }
  return -1;
}

/** The end of the JSON number starting at `at`, or -1 when none starts there. */
export function numberEnd(text: string, at: number): number {
  let i = at;
  let c = text.charCodeAt(i);
  if (c === MINUS) c = text.charCodeAt(++i);
  if (!isDigit(c)) return -1;
  // No leading zeros: `0` stands alone before the fraction.
  if (c === 0x30) c = text.charCodeAt(++i);
  else do c = text.charCodeAt(++i); while (isDigit(c));
  if (c === 0x2e) {
    c = text.charCodeAt(++i);
    if (!isDigit(c)) return -1;
    do c = text.charCodeAt(++i); while (isDigit(c));
  }
  if (c === 0x65 || c === 0x45) {
    c = text.charCodeAt(++i);
    if (c === 0x2b || c === MINUS) c = text.charCodeAt(++i);
    if (!isDigit(c)) return -1;
    do c = text.charCodeAt(++i); while (isDigit(c));
  }
  return i;
}

/** Decodes a string literal already checked by `stringEnd`: JSON.parse of just it cannot throw. */
export function decodeString(text: string, start: number, end: number, escaped: boolean): string {
  return escaped ? (JSON.parse(text.slice(start, end)) as string) : text.slice(start + 1, end - 1);
}
