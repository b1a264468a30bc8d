/**
 * `switchyard keys add | list | disable`: manages the keys file without anyone handling hashes.
 * `add` makes the key from 32 random bytes, prints it once on stdout (and nothing else there, so
 * `KEY=$(switchyard keys add …)` works) and stores only its SHA-256. Every change is checked by the
 * same parser the gateway uses, then written to a temp file and renamed over the old one: a
 * running gateway (which re-reads the file when it changes) never sees half a file.
 */
import { createHash, randomBytes } from "node:crypto";
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import type { PluginCommand } from "../../core/index.js";
import { parseKeysFile, type KeyFileEntry, type KeyRole } from "./keys-file.js";
import { KeyAdminError, type KeyListing, type NewKey } from "../../lib/auth/key-admin.js";

const DEFAULT_FILE = "pipelines/keys.json";
const KEY_PREFIX = "sk-sy-";
const ROLES: readonly KeyRole[] = ["client", "admin"];

export interface CommandOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** A mistake in the command line or the file: reported on stderr, exit code 1, nothing written (the admin API: 400, or 404 for an unknown id). */
const KeysCommandError = KeyAdminError;

const DESCRIPTION = `manage the keys file of auth-api-key (default --file ${DEFAULT_FILE}):
keys add --id ID --tenant T [--role client|admin] [--models a,b*] [--pipelines p,q] [--expires ISO] [--description TEXT]
    make a key; print it once on stdout; store only its sha256 hash
keys list [--json]
    ids, tenants, roles, status, models, pipelines (never hashes)
keys disable ID
    refuse the key from now on (401 key_disabled), keeping its entry`;

export function createKeysCommand(out: CommandOutput = process, now: () => number = Date.now): PluginCommand {
  return {
    description: DESCRIPTION,
    async run(args) {
      const [action, ...rest] = args;
      try {
        switch (action) {
          case "add":
            return await addKey(rest, out, now());
          case "list":
            return await listKeys(rest, out, now());
          case "disable":
            return await disableKey(rest, out);
          default:
            throw new KeysCommandError(`${action === undefined ? "missing action" : `unknown action "${action}"`}\nusage: switchyard ${DESCRIPTION}`);
        }
      } catch (err) {
        if (!(err instanceof KeyAdminError)) throw err;
        out.stderr.write(`switchyard keys: ${err.message}\n`);
        return 1;
      }
    },
  };
}

interface KeysDocument {
  keys: KeyFileEntry[];
  [other: string]: unknown;
}

async function addKey(args: string[], out: CommandOutput, nowMs: number): Promise<number> {
  const { values } = parse(args, {
    id: { type: "string" },
    tenant: { type: "string" },
    role: { type: "string" },
    models: { type: "string" },
    pipelines: { type: "string" },
    expires: { type: "string" },
    description: { type: "string" },
  });
  const id = required(values.id, "--id");
  const tenant = required(values.tenant, "--tenant");
  const role = values.role ?? "client";
  if (!ROLES.includes(role as KeyRole)) throw new KeysCommandError(`--role must be ${ROLES.join(" or ")}, not "${role}"`);
  const path = values.file ?? DEFAULT_FILE;
  const spec: NewKey = { id, tenant, role };
  if (values.models !== undefined) spec.models = list(values.models, "--models");
  if (values.pipelines !== undefined) spec.pipelines = list(values.pipelines, "--pipelines");
  if (values.expires !== undefined) spec.expiresAt = expiry(values.expires, nowMs, "--expires");
  if (values.description !== undefined) spec.description = values.description;
  const { key } = await addKeyTo(path, spec, nowMs);

  out.stdout.write(`${key}\n`);
  out.stderr.write(
    `added key "${id}" (tenant ${tenant}, role ${role}) to ${path}. The key above is shown this once: hand it to its owner now; ` +
      `the file holds only its hash. A running gateway picks it up at its next keys file check.\n`,
  );
  return 0;
}

/**
 * Adds a key made from 32 random bytes to the file at `path` (started when missing) and returns it,
 * the one time it exists outside its owner's hands; the file gets only its hash. For `keys add` and the admin API.
 */
export async function addKeyTo(path: string, spec: NewKey, nowMs: number): Promise<{ key: string; listing: KeyListing }> {
  const role = spec.role ?? "client";
  if (!ROLES.includes(role as KeyRole)) throw new KeysCommandError(`role must be ${ROLES.join(" or ")}, not "${role}"`);
  const { doc, mode } = await readDocument(path, true);
  if (doc.keys.some((k) => k.id === spec.id)) throw new KeysCommandError(`${path} already has a key with id "${spec.id}"; ids are unique`);
  const key = KEY_PREFIX + randomBytes(32).toString("base64url");
  const entry: KeyFileEntry = { id: spec.id, hash: `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`, tenant: spec.tenant };
  if (role !== "client") entry.role = role as KeyRole;
  if (spec.models !== undefined) entry.models = spec.models;
  if (spec.pipelines !== undefined) entry.pipelines = spec.pipelines;
  if (spec.expiresAt !== undefined) entry.expiresAt = expiry(spec.expiresAt, nowMs, "expiresAt");
  if (spec.description !== undefined) entry.description = spec.description;
  doc.keys.push(entry);
  await writeDocument(path, doc, mode);
  return { key, listing: listing(entry, nowMs) };
}

/** The file's keys as `keys list` and the admin API show them: never a hash. */
export async function listKeysIn(path: string, nowMs: number): Promise<KeyListing[]> {
  const { doc } = await readDocument(path, false);
  return doc.keys.map((k) => listing(k, nowMs));
}

/** Marks the key refused from now on, keeping its entry (its records stay attributable). */
export async function disableKeyIn(path: string, id: string): Promise<{ alreadyDisabled: boolean }> {
  const { doc, mode } = await readDocument(path, false);
  const entry = doc.keys.find((k) => k.id === id);
  if (!entry) throw new KeysCommandError(`${path} has no key with id "${id}" (known: ${doc.keys.map((k) => k.id).join(", ") || "none"})`, 404);
  if (entry.disabled === true) return { alreadyDisabled: true };
  entry.disabled = true;
  await writeDocument(path, doc, mode);
  return { alreadyDisabled: false };
}

function listing(k: KeyFileEntry, nowMs: number): KeyListing {
  return {
    id: k.id,
    tenant: k.tenant,
    role: k.role ?? "client",
    status: status(k, nowMs),
    ...(k.expiresAt === undefined ? {} : { expiresAt: k.expiresAt }),
    models: k.models ?? null,
    pipelines: k.pipelines ?? null,
    ...(k.description === undefined ? {} : { description: k.description }),
  };
}

async function listKeys(args: string[], out: CommandOutput, nowMs: number): Promise<number> {
  const { values } = parse(args, { json: { type: "boolean" } });
  const path = values.file ?? DEFAULT_FILE;
  const rows = await listKeysIn(path, nowMs);
  if (values.json) {
    out.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    out.stdout.write(`no keys in ${path}\n`);
    return 0;
  }
  const table = [["ID", "TENANT", "ROLE", "STATUS", "MODELS", "PIPELINES"]].concat(
    rows.map((r) => [r.id, r.tenant, r.role, r.status, r.models?.join(",") ?? "*", r.pipelines?.join(",") ?? "*"]),
  );
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) out.stdout.write(`${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ")}\n`);
  return 0;
}

async function disableKey(args: string[], out: CommandOutput): Promise<number> {
  const { values, positionals } = parse(args, {}, true);
  if (positionals.length !== 1) throw new KeysCommandError("usage: switchyard keys disable ID [--file FILE]");
  const id = positionals[0]!;
  const path = values.file ?? DEFAULT_FILE;
  if ((await disableKeyIn(path, id)).alreadyDisabled) {
    out.stderr.write(`key "${id}" in ${path} is already disabled\n`);
    return 0;
  }
  out.stderr.write(`disabled key "${id}" in ${path}; a running gateway refuses it from its next keys file check\n`);
  return 0;
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

function parse<O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options: { ...options, file: { type: "string" } }, allowPositionals, strict: true });
  } catch (err) {
    throw new KeysCommandError((err as Error).message);
  }
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === "") throw new KeysCommandError(`${flag} is required`);
  return value;
}

function list(value: string, flag: string): string[] {
  const items = value.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw new KeysCommandError(`${flag} must be a comma-separated list without empty items, not "${value}"`);
  return [...new Set(items)];
}

function expiry(value: string, nowMs: number, name: string): string {
  // Date.parse alone would take "March 7" or a bare number; only ISO 8601 is written to the file.
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new KeysCommandError(`${name} must be an ISO 8601 time such as 2027-01-31 or 2027-01-31T00:00:00Z, not "${value}"`);
  if (ms <= nowMs) throw new KeysCommandError(`${name} ${value} is not in the future`);
  return new Date(ms).toISOString();
}

function status(k: KeyFileEntry, nowMs: number): string {
  if (k.disabled === true) return "disabled";
  if (k.expiresAt === undefined) return "active";
  return Date.parse(k.expiresAt) <= nowMs ? `expired ${k.expiresAt}` : `active until ${k.expiresAt}`;
}

/** The file as a document, checked by the gateway's own parser; `add` may start a missing file. */
async function readDocument(path: string, createIfMissing: boolean): Promise<{ doc: KeysDocument; mode?: number }> {
  let text: string;
  let mode: number | undefined;
  try {
    text = await readFile(path, "utf8");
    mode = (await stat(path)).mode & 0o777;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && createIfMissing) return { doc: { keys: [] } };
    throw new KeysCommandError(`cannot read ${path} (${code === "ENOENT" ? "no such file" : (code ?? String(err))})`);
  }
  try {
    parseKeysFile(text, path);
  } catch (err) {
    throw new KeysCommandError(`${(err as Error).message}; fix the file first, nothing was changed`);
  }
  return { doc: JSON.parse(text) as KeysDocument, mode };
}

/** Checks the new text like the gateway would, then temp file + fsync + rename, so readers see the old file or the new one. */
async function writeDocument(path: string, doc: KeysDocument, mode: number | undefined): Promise<void> {
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  parseKeysFile(text, path);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", mode ?? 0o644);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw new KeysCommandError(`cannot write ${path} (${code ?? String(err)}); nothing was changed`);
  }
}
