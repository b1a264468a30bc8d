/**
 * Positions in a pipeline file. jsonc-parser keeps every node's offset, so a problem found in the
 * parsed value (a JSON pointer from ajv, a secret, a condition) is reported at the `line:col` of
 * the node that caused it — at the property's key when the key itself is the mistake.
 */
import { getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";

interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units like editors count. */
  col: number;
}

/** A mistake at a JSON pointer into the document, before it has a position. */
export interface PointerIssue {
  pointer: string;
  message: string;
  /** Point at the property's key rather than its value (unknown or misspelled names). */
  at?: "key";
}

interface LocatedMessage extends Position {
  message: string;
}

/** One mistake in a pipeline file, as `check` prints it: `file:line:col: message`. */
export interface Problem extends LocatedMessage {
  file: string;
}

const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "invalid number",
  PropertyNameExpected: "expected a property name in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: 'expected ":"',
  CommaExpected: 'expected ","',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: "expected end of file after the top-level value",
  InvalidCommentToken: "comments are not allowed in pipeline files",
  UnexpectedEndOfComment: "comments are not allowed in pipeline files",
  UnexpectedEndOfString: "unterminated string",
  UnexpectedEndOfNumber: "unterminated number",
  InvalidUnicode: "invalid unicode escape",
  InvalidEscapeCharacter: "invalid escape character in string",
  InvalidCharacter: "invalid character in string (control characters must be escaped)",
};

/**
 * jsonc-parser, getNodeValue and the checks after them recurse once per level: a file nested a few
 * thousand levels deep would end `check` with "Maximum call stack size exceeded" and no location.
 */
const MAX_FILE_DEPTH = 64;

/** The offset of the first `{` or `[` (outside strings) past `limit` levels, if any. */
function offsetPastDepth(text: string, limit: number): number | undefined {
  let depth = 0;
  for (let i = 0, inString = false; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (++depth > limit) return i;
    } else if (c === "}" || c === "]") depth--;
  }
  return undefined;
}

export class JsonDocument {
  readonly root: Node | undefined;
  readonly syntaxErrors: LocatedMessage[];
  private readonly lineStarts: number[];

  private constructor(
    private readonly text: string,
    root: Node | undefined,
    errors: ParseError[],
  ) {
    this.root = root;
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    // One mistake can raise several parser errors at one spot (a trailing comma: "value expected" twice).
    const seen = new Set<string>();
    this.syntaxErrors = errors
      .map((e) => this.describeSyntaxError(e))
      .filter((e) => {
        const key = `${e.line}:${e.col}:${e.message}`;
        return seen.has(key) ? false : (seen.add(key), true);
      });
  }

  /** Strict JSON: no comments, no trailing commas (what every other JSON tool will also accept). */
  static parse(text: string): JsonDocument {
    // A UTF-8 BOM is invisible in editors; blank it so offsets and columns stay as the user sees them.
    const source = text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text;
    const tooDeep = offsetPastDepth(source, MAX_FILE_DEPTH);
    if (tooDeep !== undefined) {
      const doc = new JsonDocument(source, undefined, []);
      doc.syntaxErrors.push({ ...doc.positionAt(tooDeep), message: `nested deeper than ${MAX_FILE_DEPTH} levels; no pipeline file needs that many` });
      return doc;
    }
    const errors: ParseError[] = [];
    const root = parseTree(source, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    return new JsonDocument(source, root, errors);
  }

  /** The parsed value; for duplicate keys the last one wins, as with JSON.parse. */
  value(): unknown {
    return this.root === undefined ? undefined : (getNodeValue(this.root) as unknown);
  }

  positionAt(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (this.lineStarts[lo] ?? 0) + 1 };
  }

  /**
   * Where `issue` points: the node at its pointer, its key when asked, or — when the pointer
   * names something absent from the file (a default, a missing property) — its nearest existing ancestor.
   */
  locate(issue: PointerIssue): LocatedMessage {
    return { ...this.positionOf(issue.pointer, issue.at), message: issue.message };
  }

  positionOf(pointer: string, at?: "key"): Position {
    let node = this.root;
    let keyNode: Node | undefined;
    const segments = parsePointer(pointer);
    for (const [i, segment] of segments.entries()) {
      const next = childOf(node, segment);
      if (!next) break;
      node = next.value;
      if (i === segments.length - 1) keyNode = next.key;
    }
    const target = at === "key" && keyNode ? keyNode : node;
    return this.positionAt(target?.offset ?? 0);
  }

  /** Every property name written twice in one object: JSON.parse would silently keep the last. */
  duplicateKeys(): PointerIssue[] {
    const issues: PointerIssue[] = [];
    const walk = (node: Node, pointer: string): void => {
      if (node.type === "object") {
        const seen = new Set<string>();
        for (const prop of node.children ?? []) {
          const key = prop.children?.[0]?.value as string | undefined;
          const value = prop.children?.[1];
          if (key === undefined) continue;
          const at = joinPointer(pointer, key);
          if (seen.has(key)) issues.push({ pointer: at, at: "key", message: `duplicate property "${key}"` });
          seen.add(key);
          if (value) walk(value, at);
        }
      } else if (node.type === "array") {
        node.children?.forEach((child, i) => walk(child, joinPointer(pointer, i)));
      }
    };
    if (this.root) walk(this.root, "");
    return issues;
  }

  private describeSyntaxError(e: ParseError): LocatedMessage {
    const code = printParseErrorCode(e.error);
    // Trailing commas surface as "value/property expected" at the closing bracket: name the comma instead.
    if ((code === "PropertyNameExpected" || code === "ValueExpected") && /[}\]]/.test(this.text[e.offset] ?? "")) {
      const before = this.text.slice(0, e.offset).trimEnd();
      if (before.endsWith(",")) return { ...this.positionAt(before.length - 1), message: "trailing comma is not allowed" };
    }
    if (code === "ValueExpected" && this.text.trim() === "") return { line: 1, col: 1, message: "file is empty; expected a pipeline object" };
    return { ...this.positionAt(e.offset), message: SYNTAX_MESSAGES[code] ?? "invalid JSON" };
  }
}

function childOf(node: Node | undefined, segment: string): { key?: Node; value: Node } | undefined {
  if (node?.type === "array") {
    if (!/^(0|[1-9][0-9]*)$/.test(segment)) return undefined;
    const value = node.children?.[Number(segment)];
    return value ? { value } : undefined;
  }
  if (node?.type !== "object") return undefined;
  // The last of duplicate keys, matching the value the loader sees.
  for (const prop of [...(node.children ?? [])].reverse()) {
    const [key, value] = prop.children ?? [];
    if (key?.value === segment && value) return { key, value };
  }
  return undefined;
}

/** RFC 6901 pointer to its unescaped reference tokens ("" is the whole document). */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function joinPointer(base: string, ...segments: (string | number)[]): string {
  return base + segments.map((s) => `/${String(s).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}
