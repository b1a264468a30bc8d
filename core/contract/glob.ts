/**
 * The one glob of switchyard, wherever a pattern names models or paths (backend `models`, `when`
 * conditions, pricing files, keys files): `*` matches any run of characters, empty and line breaks
 * included, and every other character only itself.
 */

/**
 * `pattern` as a matcher. Matched without a regex, in one left-to-right pass, so no pattern from
 * a pipeline, pricing or keys file can backtrack badly against a client-chosen model name.
 */
export function compileGlob(pattern: string): (text: string) => boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return (text) => text === pattern;
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  const middle = parts.slice(1, -1).filter((p) => p !== "");
  return (text) => {
    if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
    let at = first.length;
    const end = text.length - last.length;
    for (const part of middle) {
      const found = text.indexOf(part, at);
      if (found < 0 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
}
