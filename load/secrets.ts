/**
 * Secret references in pipeline files: `${env:NAME}` and `${file:path}` inside any string value,
 * replaced at load. A reference that cannot be resolved is a load problem naming the variable or
 * the file, never a value; every resolved value is registered so logs scrub it. `$${` writes a
 * literal `${`, and any other `${…}` is a mistake rather than text passed through, so a typo such
 * as `${ENV:KEY}` cannot reach an upstream as a literal API key.
 */
import { isAbsolute, resolve } from "node:path";
import { joinPointer, type PointerIssue } from "./json-locations.js";
import { registerSecret } from "../core/contract/log.js";
import { isObject } from "../core/contract/json-object.js";

interface SecretSources {
  env: Record<string, string | undefined>;
  /** Reads a secret file's text; relative paths are resolved against `baseDir` first. */
  readFile(path: string): Promise<string>;
  /** Folder of the pipeline file. */
  baseDir: string;
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Replaces every secret reference in the string values of `value`, in place. */
export async function resolveSecrets(value: unknown, sources: SecretSources): Promise<PointerIssue[]> {
  const issues: PointerIssue[] = [];
  const visit = async (node: unknown, pointer: string, assign: (v: string) => void): Promise<void> => {
    if (typeof node === "string") {
      if (!node.includes("${")) return;
      const resolved = await resolveString(node, pointer, sources, issues);
      if (resolved !== undefined) assign(resolved);
    } else if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) await visit(item, joinPointer(pointer, i), (v) => (node[i] = v));
    } else if (isObject(node)) {
      for (const [key, item] of Object.entries(node)) await visit(item, joinPointer(pointer, key), (v) => (node[key] = v));
    }
  };
  await visit(value, "", () => undefined);
  return issues;
}

/** The string with references replaced, or undefined when one of them could not be resolved. */
async function resolveString(text: string, pointer: string, sources: SecretSources, issues: PointerIssue[]): Promise<string | undefined> {
  let out = "";
  let last = 0;
  let failed = false;
  for (const match of text.matchAll(REFERENCE)) {
    out += text.slice(last, match.index);
    last = match.index + match[0].length;
    if (match[0] === "$${") {
      out += "${";
      continue;
    }
    const reference = match[1];
    const problem = (message: string): void => {
      failed = true;
      issues.push({ pointer, message });
    };
    if (reference === undefined) {
      problem('unterminated "${": write ${env:NAME} or ${file:path}, or $${ for a literal "${"');
      continue;
    }
    const colon = reference.indexOf(":");
    const kind = colon < 0 ? reference : reference.slice(0, colon);
    const target = colon < 0 ? "" : reference.slice(colon + 1);
    if (kind === "env") {
      if (!ENV_NAME.test(target)) {
        problem(`invalid environment variable name in \${env:${target}}`);
        continue;
      }
      const resolved = sources.env[target];
      if (resolved === undefined) {
        problem(`environment variable ${target} is not set`);
        continue;
      }
      registerSecret(resolved);
      out += resolved;
    } else if (kind === "file") {
      if (target === "") {
        problem("empty path in ${file:}");
        continue;
      }
      const path = isAbsolute(target) ? target : resolve(sources.baseDir, target);
      let content: string;
      try {
        content = await sources.readFile(path);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        problem(`cannot read secret file ${target}${typeof code === "string" ? ` (${code})` : ""}`);
        continue;
      }
      // Files written by editors and `echo` end in a newline that is not part of the secret.
      const trimmed = content.replace(/\r?\n$/, "");
      registerSecret(trimmed);
      out += trimmed;
    } else {
      const shown = colon < 0 ? kind : `${kind}:…`;
      problem(`unknown reference "\${${shown}}": use \${env:NAME} or \${file:path}, or $\${ for a literal "\${"`);
    }
  }
  return failed ? undefined : out + text.slice(last);
}
