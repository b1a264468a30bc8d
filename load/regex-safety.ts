/**
 * Refuses, at load, the regular expressions of `when` that can backtrack super-linearly in V8's
 * engine: a request header or body value is the attacker's input, and `^(a+)+$` against thirty
 * `a`s and a `!` blocks the event loop for seconds. A linear-time engine (RE2) would lift the
 * limit, but the ones on npm either download native binaries at install or replace the pattern
 * language; a pattern refused here can nearly always be rewritten without the nesting.
 *
 * Conservative: refused are a repeated group holding a variable-length part (`(a+)+`, `(a|ab)*`,
 * `(\w{1,3})*`, `(a+){3}`), and backreferences. Bounded repetition of bounded parts stays
 * (`(\d{1,3}\.){3}`), and so does any single-level quantifier. Not caught: adjacent overlapping
 * quantifiers (`\d+\d+`), which are polynomial, not exponential.
 */

interface Quantifier {
  /** Index just past the quantifier (and its lazy `?`). */
  end: number;
  /** Whether it repeats (max > 1), and whether it has no upper bound. */
  repeats: boolean;
  unbounded: boolean;
  /** Whether it matches a varying number of times. */
  variable: boolean;
}

function quantifierAt(pattern: string, i: number): Quantifier | undefined {
  const c = pattern[i];
  let q: Quantifier | undefined;
  if (c === "*" || c === "+") q = { end: i + 1, repeats: true, unbounded: true, variable: true };
  else if (c === "?") q = { end: i + 1, repeats: false, unbounded: false, variable: true };
  else if (c === "{") {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
    if (m === null) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
    q = { end: i + m[0].length, repeats: max > 1, unbounded: max === Infinity, variable: max !== min };
  }
  if (q !== undefined && pattern[q.end] === "?") q.end++;
  return q;
}

interface Group {
  /** The group holds a part of varying length: a variable quantifier or an alternation. */
  variable: boolean;
  /** The group holds an unbounded quantifier. */
  unbounded: boolean;
}

/** Why `pattern` may take super-linear time, or undefined when it is accepted. */
export function superLinearReason(pattern: string): string | undefined {
  const stack: Group[] = [{ variable: false, unbounded: false }];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    let closed: Group | undefined;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next !== undefined && (/[1-9]/.test(next) || (next === "k" && pattern[i + 2] === "<"))) {
        return "backreferences can take exponential time; match without them";
      }
      i += 2;
    } else if (c === "[") {
      // A character class is one character, whatever it holds.
      i++;
      if (pattern[i] === "^") i++;
      if (pattern[i] === "]") i++;
      while (i < pattern.length && pattern[i] !== "]") i += pattern[i] === "\\" ? 2 : 1;
      i++;
    } else if (c === "(") {
      stack.push({ variable: false, unbounded: false });
      i++;
      if (pattern[i] === "?") {
        // (?: (?= (?! (?<= (?<! (?<name>: skip the group's marker.
        i++;
        if (pattern[i] === "<" && pattern[i + 1] !== "=" && pattern[i + 1] !== "!") {
          while (i < pattern.length && pattern[i] !== ">") i++;
        }
        i++;
        if (pattern[i - 1] === "<") i++;
      }
      continue;
    } else if (c === ")") {
      closed = stack.length > 1 ? stack.pop() : undefined;
      i++;
    } else if (c === "|") {
      stack.at(-1)!.variable = true;
      i++;
      continue;
    } else {
      i++;
    }
    const q = quantifierAt(pattern, i);
    const top = stack.at(-1)!;
    if (closed !== undefined) {
      if (q?.repeats && ((q.unbounded && closed.variable) || closed.unbounded)) {
        return "a repeated group holds a part of varying length (as in (a+)+ or (a|ab)*), which can take exponential time; remove the nesting, or use a character class";
      }
      top.variable ||= closed.variable;
      top.unbounded ||= closed.unbounded;
    }
    if (q !== undefined) {
      top.variable ||= q.variable;
      top.unbounded ||= q.unbounded;
      i = q.end;
    }
  }
  return undefined;
}
