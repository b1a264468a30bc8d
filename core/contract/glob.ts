/**
 * The one glob of switchyard, wherever a pattern names models or paths (backend `models`, `when`
 * conditions, pricing files, keys files): `*` matches any run of characters but `/`, every other
 * character only itself. A `/` in a model name is a path segment to some backends (Gemini's
 * `models/…`), so `gemini-*` must not match `gemini-x/../../admin`; a pattern spanning segments says
 * so (`openai/*`). Free text (`when.header`, `when.body`) asks for `{ acrossSlashes: true }`.
 * Matched without a regex, one left-to-right pass per segment, so no pattern from a pipeline,
 * pricing or keys file can backtrack badly against a client-chosen name.
 */
export function compileGlob(pattern: string, options: { acrossSlashes?: boolean } = {}): (text: string) => boolean {
  if (options.acrossSlashes) return compileRun(pattern);
  // `*` never yields a `/`: text and pattern must have the same segments, each matched alone.
  const segments = pattern.split("/").map(compileRun);
  return (text) => {
    const parts = text.split("/");
    return parts.length === segments.length && parts.every((part, i) => segments[i]!(part));
  };
}

/** `*` as any run of characters, line breaks and `/` included. */
function compileRun(pattern: string): (text: string) => boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return (text) => text === pattern;
  const [first = "", last = ""] = [parts[0], parts[parts.length - 1]];
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
