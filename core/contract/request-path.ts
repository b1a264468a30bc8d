/**
 * The one canonical request path, made as Envoy makes it (normalize_path, merge_slashes, escaped
 * slashes refused): routing, `when.path` conditions and what a proxy sends upstream all see this
 * form, so no other spelling of a path gets past a condition written for it (issue 11, items 1-2).
 */
/** Escapes of unreserved characters (RFC 3986 §2.3: ALPHA DIGIT - . _ ~), which mean the character itself. */
const UNRESERVED_ESCAPE = /%(2[DEde]|3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|5[Ff]|7[Ee])/g;
/** `%2F` and `%5C` would be a segment boundary to some upstreams and not to us: refused, as Envoy's REJECT_REQUEST. */
const ESCAPED_SLASH = /%(2[Ff]|5[Cc])/;

/** The path of a request target (origin or absolute form, query cut), canonical; undefined when it must be refused. */
export function canonicalPath(target: string): string | undefined {
  let path = target.startsWith("/") ? target : URL.parse(target)?.pathname;
  if (path === undefined || ESCAPED_SLASH.test((path = path.split("?", 1)[0]!))) return undefined;
  if (!/%|\/\/|\/\./.test(path)) return path; // the common case: nothing to rewrite
  const kept: string[] = [];
  for (const s of path.replace(UNRESERVED_ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))).split("/")) {
    if (s === "..") kept.pop();
    else if (s !== "." && s !== "") kept.push(s);
  }
  // A trailing slash (or a last `.`/`..`) is kept: to an upstream `/dir/` and `/dir` may differ.
  return `/${kept.join("/")}${kept.length > 0 && /\/(\.|%2[Ee]){0,2}$/.test(path) ? "/" : ""}`;
}
