/**
 * The keys file: read, check against keys.schema.json, index by hash, and follow changes.
 * Nothing here ever sees a key, only hashes of keys.
 */
import { readFile } from "node:fs/promises";
import { unwatchFile, watchFile, type Stats } from "node:fs";
import type { ErrorObject } from "ajv";
import { compileGlob, type Logger } from "../../core/index.js";
import keysSchema from "./keys.schema.json" with { type: "json" };
import { compileSchema } from "../../lib/schema/check-config.js";

/** One accepted key, ready for the request path. */
export interface KeyEntry {
  id: string;
  /** SHA-256 digest of the key (32 bytes). */
  digest: Buffer;
  tenant: string;
  role: KeyRole;
  disabled: boolean;
  /** Epoch ms from which the key is refused. */
  expiresAtMs?: number;
  /** Compiled `models` globs; undefined = every model. */
  models?: ((model: string) => boolean)[];
  /** Pipeline ids the key may be used on; undefined = every pipeline. */
  pipelines?: ReadonlySet<string>;
}

export type KeyRole = "client" | "admin";

/** Keys by the hex SHA-256 of the key. */
export type KeyTable = ReadonlyMap<string, KeyEntry>;

/** One entry as the file holds it (keys.schema.json). */
export interface KeyFileEntry {
  id: string;
  hash: string;
  tenant: string;
  role?: KeyRole;
  disabled?: boolean;
  expiresAt?: string;
  models?: string[];
  pipelines?: string[];
  description?: string;
}

const validateKeysFile = compileSchema<{ keys: KeyFileEntry[] }>(keysSchema);

const EXPIRES_AT_FORMAT = "must be an ISO 8601 time such as 2027-01-31T00:00:00Z";

export async function loadKeysFile(path: string): Promise<KeyTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`keys file ${path}: cannot read it (${code === "ENOENT" ? "no such file" : (code ?? String(err))})`);
  }
  return parseKeysFile(text, path);
}

export function parseKeysFile(text: string, path: string): KeyTable {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // V8 quotes the text around the fault; in a keys file that could be a key pasted by mistake.
    const reason = (err as Error).message.replace(/, ".*" is not valid JSON$/s, "");
    throw new Error(`keys file ${path}: not valid JSON (${reason})`);
  }
  if (!validateKeysFile(data)) {
    throw new Error(`keys file ${path}: ${(validateKeysFile.errors ?? []).map(describeIssue).join("; ")}`);
  }
  const table = new Map<string, KeyEntry>();
  const ids = new Set<string>();
  data.keys.forEach((key, i) => {
    const at = `/keys/${i}`;
    if (ids.has(key.id)) throw new Error(`keys file ${path}: ${at}/id "${key.id}" is used twice`);
    ids.add(key.id);
    const hex = key.hash.slice("sha256:".length).toLowerCase();
    // Hashes are not secret, but two keys with one hash would make tenant attribution ambiguous.
    if (table.has(hex)) throw new Error(`keys file ${path}: ${at}/hash is the same as key "${table.get(hex)!.id}"`);
    let expiresAtMs: number | undefined;
    if (key.expiresAt !== undefined) {
      expiresAtMs = Date.parse(key.expiresAt);
      if (Number.isNaN(expiresAtMs)) throw new Error(`keys file ${path}: ${at}/expiresAt ${EXPIRES_AT_FORMAT}`);
    }
    table.set(hex, {
      id: key.id,
      digest: Buffer.from(hex, "hex"),
      tenant: key.tenant,
      role: key.role ?? "client",
      disabled: key.disabled ?? false,
      expiresAtMs,
      models: key.models?.map((pattern) => compileGlob(pattern)),
      pipelines: key.pipelines ? new Set(key.pipelines) : undefined,
    });
  });
  return table;
}

function describeIssue(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "additionalProperties") return `${e.instancePath}/${String(p.additionalProperty)}: unknown property`;
  if (e.keyword === "required") return `${e.instancePath || "/"}: missing required property "${String(p.missingProperty)}"`;
  if (e.keyword === "pattern" && e.instancePath.endsWith("/hash")) return `${e.instancePath} must be sha256:<64 hex digits>`;
  if (e.keyword === "format" && e.instancePath.endsWith("/expiresAt")) return `${e.instancePath} ${EXPIRES_AT_FORMAT}`;
  return `${e.instancePath || "/"} ${e.message ?? e.keyword}`;
}

/**
 * Re-reads the file whenever its stats change. fs.watchFile polls by path, so it survives editors
 * and deploy tools that replace the file by rename (an fs.watch handle would stay on the old inode).
 * A bad new version is logged and skipped: the keys in use stay valid until a good one arrives.
 * A removed file is different: deleting it is how an operator may revoke every key at once, so
 * from then on every key is refused (fail closed) until a file is back.
 */
export function followKeysFile(path: string, intervalMs: number, log: Logger, onLoad: (table: KeyTable) => void): () => void {
  let reloading = Promise.resolve();
  const listener = (curr: Stats) => {
    reloading = reloading.then(async () => {
      // fs.watchFile reports a missing file as zeroed stats (nlink 0).
      if (curr.nlink === 0) {
        onLoad(new Map());
        log.error({ file: path }, "keys file removed; refusing every key until it is back");
        return;
      }
      try {
        const table = await loadKeysFile(path);
        onLoad(table);
        log.info({ file: path, keys: table.size }, "keys file reloaded");
      } catch (err) {
        log.error({ file: path, error: (err as Error).message }, "keys file reload failed; keeping the keys loaded before");
      }
    });
  };
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(path, listener);
}
