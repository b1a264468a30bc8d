/**
 * Finds plugins: the built-in ones in the `plugins/` folder beside core (one folder per plugin,
 * its default export the plugin), and external ones a pipeline names by a `./` or `../` path.
 * Core knows no plugin by name: it only scans the folder. A plugin that fails to import or has
 * the wrong shape stops the load with its folder named — never skipped, so a typo in a plugin
 * cannot silently remove a step from every pipeline.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { checkConfig } from "../lib/schema/check-config.js";
import type { FormatTranslator } from "../core/contract/format.js";
import { isObject } from "../core/contract/json-object.js";
import type { FormatPlugin, FormatRegistry, Plugin, PluginCommand } from "../core/contract/plugin.js";

/** A plugin that could not be imported or is malformed; the message names where it came from. */
export class PluginLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PluginLoadError";
  }
}

const KINDS = ["step", "provider", "format"] as const;

/** The CLI's own commands: no plugin may contribute a command of these names. */
const CORE_COMMANDS: readonly string[] = ["serve", "check", "explain", "simulate", "plugins", "help"];
const COMMAND_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** A CLI command and the plugin it comes from. */
export interface RegisteredCommand {
  readonly name: string;
  readonly plugin: string;
  readonly command: PluginCommand;
}

/** Entry files a plugin folder may have: compiled first, so dist never imports TypeScript source. */
const ENTRY_FILES = ["index.js", "index.ts"];

export class PluginRegistry {
  readonly formats: FormatRegistry;
  private readonly external = new Map<string, Promise<Plugin>>();
  private readonly commandsByName = new Map<string, RegisteredCommand>();

  private constructor(private readonly builtIns: ReadonlyMap<string, Plugin>) {
    for (const plugin of builtIns.values()) {
      for (const [name, command] of Object.entries(plugin.commands ?? {})) {
        const other = this.commandsByName.get(name);
        if (other) throw new PluginLoadError(`plugins "${other.plugin}" and "${plugin.name}" both contribute the command "${name}"`);
        this.commandsByName.set(name, { name, plugin: plugin.name, command });
      }
    }
    const owners = new Map<string, FormatPlugin>();
    for (const plugin of builtIns.values()) {
      if (plugin.kind !== "format") continue;
      const other = owners.get(plugin.format);
      if (other) throw new PluginLoadError(`plugins "${other.name}" and "${plugin.name}" both claim the format "${plugin.format}"`);
      owners.set(plugin.format, plugin);
    }
    const translators = new Map([...owners].map(([format, plugin]) => [format, plugin.translator]));
    const keys = [...translators.keys()].sort();
    this.formats = { get: (format) => translators.get(format), list: () => keys };
  }

  /**
   * The plugins in `pluginsDir` (default: `plugins/` beside core, which is the source tree under
   * vitest and dist/plugins once compiled). Throws a PluginLoadError naming every bad folder.
   */
  static async builtIn(pluginsDir: string | URL = new URL("../plugins/", import.meta.url)): Promise<PluginRegistry> {
    const dir = pluginsDir instanceof URL ? fileURLToPath(pluginsDir) : pluginsDir;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (cause) {
      throw new PluginLoadError(`cannot read the plugins folder ${dir}`, { cause });
    }
    const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    const loaded = await Promise.allSettled(folders.map((name) => loadPluginFolder(join(dir, name), name)));
    const failures = loaded.flatMap((r) => (r.status === "rejected" ? [errorText(r.reason)] : []));
    if (failures.length > 0) throw new PluginLoadError(failures.join("\n"));
    return new PluginRegistry(new Map(loaded.flatMap((r) => (r.status === "fulfilled" ? [[r.value.name, r.value] as const] : []))));
  }

  /** A registry of exactly these plugins (tests, embedding). Checks them like built-ins. */
  static fromPlugins(plugins: Plugin[]): PluginRegistry {
    const byName = new Map<string, Plugin>();
    for (const plugin of plugins) {
      const issues = pluginShapeIssues(plugin);
      const name = (plugin as { name?: unknown }).name;
      if (issues.length > 0) throw new PluginLoadError(`plugin ${typeof name === "string" ? `"${name}"` : "(unnamed)"}: ${issues.join("; ")}`);
      if (byName.has(plugin.name)) throw new PluginLoadError(`two plugins are named "${plugin.name}"`);
      byName.set(plugin.name, plugin);
    }
    return new PluginRegistry(byName);
  }

  /** The built-in plugins, by name. */
  list(): Plugin[] {
    return [...this.builtIns.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** CLI commands the built-in plugins contribute, by name. */
  commands(): RegisteredCommand[] {
    return [...this.commandsByName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The plugin command `switchyard <name>` runs, if any. */
  command(name: string): RegisteredCommand | undefined {
    return this.commandsByName.get(name);
  }

  /**
   * The plugin a pipeline's `use` names: a built-in name, or a `./`/`../` path resolved against
   * `fromDir` (the pipeline file's folder) to a module or a folder with an index file. Undefined
   * for an unknown built-in name; a PluginLoadError for a path that cannot be imported or does
   * not export a well-formed plugin.
   */
  async resolve(use: string, fromDir: string): Promise<Plugin | undefined> {
    if (!use.startsWith("./") && !use.startsWith("../")) return this.builtIns.get(use);
    const path = resolvePath(fromDir, use);
    let pending = this.external.get(path);
    if (!pending) {
      pending = loadExternal(path, use);
      this.external.set(path, pending);
    }
    return pending;
  }
}

async function loadPluginFolder(folder: string, name: string): Promise<Plugin> {
  const entry = await findEntry(folder);
  if (!entry) throw new PluginLoadError(`plugin folder "${name}": no ${ENTRY_FILES.join(" or ")}`);
  return importPlugin(entry, `plugin folder "${name}"`, name);
}

async function loadExternal(path: string, use: string): Promise<Plugin> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new PluginLoadError(`plugin "${use}": no such file or folder`);
  const entry = info.isDirectory() ? await findEntry(path) : path;
  if (!entry) throw new PluginLoadError(`plugin "${use}": the folder has no ${ENTRY_FILES.join(" or ")}`);
  return importPlugin(entry, `plugin "${use}"`);
}

async function findEntry(folder: string): Promise<string | undefined> {
  for (const file of ENTRY_FILES) {
    const path = join(folder, file);
    if ((await stat(path).catch(() => undefined))?.isFile()) return path;
  }
  return undefined;
}

async function importPlugin(path: string, label: string, expectedName?: string): Promise<Plugin> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (cause) {
    throw new PluginLoadError(`${label}: failed to import ${path}: ${errorText(cause)}`, { cause });
  }
  const plugin = module.default;
  if (plugin === undefined) throw new PluginLoadError(`${label}: the module has no default export (export default definePlugin({...}))`);
  const issues = pluginShapeIssues(plugin, expectedName);
  if (issues.length > 0) throw new PluginLoadError(`${label}: ${issues.join("; ")}`);
  return plugin as Plugin;
}

/** What is wrong with a candidate plugin object; empty when it is well-formed. */
function pluginShapeIssues(candidate: unknown, expectedName?: string): string[] {
  if (!isObject(candidate)) return ["the default export is not a plugin object"];
  const p = candidate;
  const issues: string[] = [];
  if (!KINDS.includes(p.kind as (typeof KINDS)[number])) issues.push(`kind must be one of ${KINDS.join(", ")}`);
  if (typeof p.name !== "string" || p.name === "") issues.push("name must be a non-empty string");
  else if (expectedName !== undefined && p.name !== expectedName) issues.push(`name "${p.name}" must equal its folder name "${expectedName}"`);
  if (typeof p.description !== "string" || p.description === "") issues.push("description must be a non-empty string");
  if (p.kind === "format") {
    const format = (candidate as Partial<FormatPlugin>).format;
    if (typeof format !== "string" || format === "") issues.push("format must be a non-empty string");
    const translator = p.translator as Partial<FormatTranslator> | undefined;
    if (!isObject(translator)) issues.push("translator must be an object");
    else if (translator.format !== format) issues.push(`translator.format "${String(translator.format)}" must equal format "${String(format)}"`);
  } else if (typeof p.create !== "function") {
    issues.push("create must be a function");
  }
  issues.push(...configSchemaIssues(p.configSchema));
  issues.push(...commandIssues(p.commands));
  return issues;
}

function commandIssues(commands: unknown): string[] {
  if (commands === undefined) return [];
  if (!isObject(commands)) return ["commands must be an object of commands by name"];
  const issues: string[] = [];
  for (const [name, command] of Object.entries(commands)) {
    if (!COMMAND_NAME.test(name)) issues.push(`command "${name}": the name must be lower-case words joined by "-"`);
    else if (CORE_COMMANDS.includes(name)) issues.push(`command "${name}": the name is a core command (${CORE_COMMANDS.join(", ")})`);
    const c = command as Partial<PluginCommand> | null;
    if (!isObject(c)) issues.push(`command "${name}" must be an object with description and run`);
    else {
      if (typeof c.description !== "string" || c.description === "") issues.push(`command "${name}": description must be a non-empty string`);
      if (typeof c.run !== "function") issues.push(`command "${name}": run must be a function`);
    }
  }
  return issues;
}

function configSchemaIssues(schema: unknown): string[] {
  if (!isObject(schema)) return ["configSchema must be a JSON Schema object"];
  const s = schema;
  // Pipeline files always hold an object in `config`, and unknown keys there are typos to report.
  if (s.type !== "object") return ['configSchema must have type "object"'];
  if (s.additionalProperties !== false) return ["configSchema must set additionalProperties: false, so misspelled settings are reported"];
  try {
    // Compiles (and caches) the validator the loader will use, with the same strict ajv.
    checkConfig(s, {});
  } catch (err) {
    return [`configSchema does not compile: ${errorText(err)}`];
  }
  return [];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
