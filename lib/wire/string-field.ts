/**
 * One string field read out of an event's JSON text without parsing it: what a stream observer
 * needs from the events it otherwise lets pass unread (a finish reason among hundreds of deltas).
 */
import { decodeString, stringEnd } from "./json-literals.js";

const WHITESPACE = /\s/;

/**
 * The string value of the first `"key":` in `text`, or undefined when the key is absent or its
 * value is not a string (`null` before the end). A `"key"` inside a string cannot match (there
 * its quotes are escaped); a string value that is exactly `"key"` has no colon after it.
 */
export function firstStringField(text: string, key: string): string | undefined {
  const name = `"${key}"`;
  for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) {
    let i = at + name.length;
    while (WHITESPACE.test(text.charAt(i))) i++;
    if (text.charAt(i) !== ":") continue;
    i++;
    while (WHITESPACE.test(text.charAt(i))) i++;
    const escaped = { value: false };
    const end = stringEnd(text, i, escaped);
    return end < 0 ? undefined : decodeString(text, i, end, escaped.value);
  }
  return undefined;
}
