/**
 * Pipeline files to LoadedPipeline objects: read (through an injectable fs, so tests use memfs),
 * parse with positions, resolve secrets, check against the pipeline schema, find every plugin and
 * check its config against the plugin's own schema, compile conditions, and check what only makes
 * sense across files (pipeline ids, routes). Every problem in every file is collected and located
 * at `file:line:col`; only files without a single problem are returned as pipelines.
 */
import * as nodeFs from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { checkConfig } from "../lib/schema/check-config.js";
import { compileCondition, ConditionError } from "./conditions.js";
import { isObject } from "../core/contract/json-object.js";
import type { Condition, Pipeline } from "../core/contract/generated/pipeline.js";
import { JsonDocument, joinPointer, type PointerIssue, type Problem } from "./json-locations.js";
import type { LoadedBackend, LoadedPipeline, LoadedStep } from "../core/contract/loaded-pipeline.js";
import { checkPipelineSchema } from "./pipeline-schema.js";
import { redactSecrets } from "../core/contract/log.js";
import type { Plugin } from "../core/contract/plugin.js";
import type { Predicate } from "../core/contract/exchange.js";
import { PluginLoadError, type PluginRegistry } from "./registry.js";
import { resolveSecrets } from "./secrets.js";
import { checkRoutes, Claims, declaredEndpoints, routeInfo, routesNamingNoMethod } from "./routes.js";

/** The part of `node:fs/promises` the loader reads through (memfs's `vol.promises` fits). */
export interface LoaderFs {
  readFile(path: string, encoding: "utf8"): Promise<string | Uint8Array>;
  readdir(path: string): Promise<unknown[]>;
  stat(path: string): Promise<{ isDirectory(): boolean; isFile(): boolean }>;
}

export interface LoadOptions {
  registry: PluginRegistry;
  fs?: LoaderFs;
  env?: Record<string, string | undefined>;
  /**
   * Also run the steps' own load-time checks (`StepPlugin.check`: keys and pricing files…), as
   * `switchyard check` does. `serve` leaves them to `create`, which reads the same files anyway.
   */
  checkPlugins?: boolean;
}

export interface LoadResult {
  pipelines: LoadedPipeline[];
  problems: Problem[];
}

const PIPELINE_SUFFIX = ".pipeline.json";

/** Loads every file (a folder stands for its `*.pipeline.json` files); see the module comment. */
export async function loadPipelines(paths: string[], opts: LoadOptions): Promise<LoadResult> {
  const fs = opts.fs ?? (nodeFs as unknown as LoaderFs);
  const problems: Problem[] = [];
  const files = await expandPaths(paths, fs, problems);
  const claims = new Claims();
  const pipelines: LoadedPipeline[] = [];
  for (const file of files) {
    const loaded = await loadFile(file, { registry: opts.registry, fs, env: opts.env ?? process.env, claims, checkPlugins: opts.checkPlugins ?? false });
    problems.push(...loaded.problems);
    if (loaded.pipeline) pipelines.push(loaded.pipeline);
  }
  return { pipelines, problems };
}

async function expandPaths(paths: string[], fs: LoaderFs, problems: Problem[]): Promise<string[]> {
  const files: string[] = [];
  // A file named both by itself and through its folder is loaded once, not reported as its own duplicate.
  const seen = new Set<string>();
  const add = (file: string): void => {
    if (seen.has(resolve(file))) return;
    seen.add(resolve(file));
    files.push(file);
  };
  for (const path of paths) {
    const info = await fs.stat(path).catch(() => undefined);
    if (!info) {
      problems.push({ file: path, line: 1, col: 1, message: "no such file or directory" });
    } else if (info.isDirectory()) {
      const names = (await fs.readdir(path)).map(String).filter((n) => n.endsWith(PIPELINE_SUFFIX)).sort();
      if (names.length === 0) problems.push({ file: path, line: 1, col: 1, message: `no *${PIPELINE_SUFFIX} files in this folder` });
      for (const name of names) add(join(path, name));
    } else {
      add(path);
    }
  }
  return files;
}

interface FileContext {
  registry: PluginRegistry;
  fs: LoaderFs;
  env: Record<string, string | undefined>;
  claims: Claims;
  checkPlugins: boolean;
}

async function loadFile(file: string, ctx: FileContext): Promise<{ pipeline?: LoadedPipeline; problems: Problem[] }> {
  let text: string;
  try {
    text = String(await ctx.fs.readFile(file, "utf8"));
  } catch (err) {
    return { problems: [{ file, line: 1, col: 1, message: `cannot read the file (${(err as { code?: string }).code ?? "error"})` }] };
  }
  const doc = JsonDocument.parse(text);
  if (doc.syntaxErrors.length > 0) return { problems: doc.syntaxErrors.map((e) => ({ file, ...e })) };
  const value = doc.value();
  if (!isObject(value)) {
    return { problems: [{ file, ...doc.locate({ pointer: "", message: "a pipeline file must hold a JSON object" }) }] };
  }
  const spec = value as Record<string, unknown>;
  const absolute = resolve(file);
  const dir = dirname(absolute);

  const issues: PointerIssue[] = doc.duplicateKeys();
  issues.push(...(await resolveSecrets(spec, { env: ctx.env, baseDir: dir, readFile: async (p) => String(await ctx.fs.readFile(p, "utf8")) })));
  // Read before the schema fills in its default method: a prefix route without one takes every method.
  const methodless = routesNamingNoMethod(spec);
  const schemaIssues = checkPipelineSchema(spec);
  issues.push(...schemaIssues);
  // Deeper checks skip nodes the schema already rejected: one mistake, one problem.
  const flawed = (pointer: string): boolean => schemaIssues.some((i) => i.pointer === pointer || i.pointer.startsWith(`${pointer}/`));

  const where = (pointer: string): string => {
    const { line, col } = doc.positionOf(pointer);
    return `${file}:${line}:${col}`;
  };
  if (typeof spec.id === "string") {
    const first = ctx.claims.claim(`id ${spec.id}`, where("/id"));
    if (first) issues.push({ pointer: "/id", message: `pipeline id "${spec.id}" is already used at ${first}` });
  }
  const backends = await loadBackends(spec, dir, ctx.registry, issues, flawed);
  const steps = await loadSteps(spec, dir, ctx.registry, issues, flawed);
  const matchers = loadMatchers(spec, issues, flawed);
  if (ctx.checkPlugins) await checkSteps(steps, dir, issues);
  const endpoints = declaredEndpoints(steps, issues);
  issues.push(...checkRoutes(spec, methodless, endpoints, ctx, where));

  const problems = locateAll(doc, file, issues);
  if (problems.length > 0) return { problems };
  const pipeline = spec as unknown as Pipeline;
  return {
    problems,
    pipeline: {
      file: absolute,
      dir,
      spec: pipeline,
      routes: pipeline.routes.map((r, i) => routeInfo(r, methodless.has(i), endpoints)),
      backends,
      steps,
      matchers,
      formats: ctx.registry.formats,
    },
  };
}

type Flawed = (pointer: string) => boolean;

async function loadBackends(spec: Record<string, unknown>, dir: string, registry: PluginRegistry, issues: PointerIssue[], flawed: Flawed): Promise<LoadedBackend[]> {
  const backends: LoadedBackend[] = [];
  const entries = isObject(spec.backends) ? Object.entries(spec.backends) : [];
  for (const [id, backend] of entries) {
    const at = joinPointer("/backends", id);
    if (!isObject(backend) || typeof backend.use !== "string") continue;
    const plugin = await findPlugin(backend.use, "provider", dir, registry, `${at}/use`, issues);
    if (plugin?.kind !== "provider") continue;
    const config = checkPluginConfig(plugin, backend, at, issues, flawed);
    backends.push({
      id,
      use: backend.use,
      plugin,
      config,
      models: (backend.models as string[] | undefined) ?? ["*"],
      modelMap: (backend.modelMap as Record<string, string> | undefined) ?? {},
    });
  }
  return backends;
}

async function loadSteps(spec: Record<string, unknown>, dir: string, registry: PluginRegistry, issues: PointerIssue[], flawed: Flawed): Promise<LoadedStep[]> {
  const steps: LoadedStep[] = [];
  const seen = new Map<string, number>();
  const list = Array.isArray(spec.steps) ? (spec.steps as unknown[]) : [];
  for (const [i, step] of list.entries()) {
    const at = joinPointer("/steps", i);
    if (!isObject(step) || typeof step.use !== "string") continue;
    const id = typeof step.id === "string" ? step.id : step.use;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      issues.push({ pointer: `${at}/${step.id === undefined ? "use" : "id"}`, message: `duplicate step id "${id}" (step ${earlier + 1} has it too); give one of them its own "id"` });
    }
    seen.set(id, i);

    const when = step.when !== undefined && !flawed(`${at}/when`) ? compileAt(step.when as Condition, `${at}/when`, id, issues) : undefined;
    const plugin = await findPlugin(step.use, "step", dir, registry, `${at}/use`, issues);
    if (plugin?.kind !== "step") continue;
    const config = checkPluginConfig(plugin, step, at, issues, flawed);
    steps.push({ id, index: i, use: step.use, plugin, config, when, onError: step.onError === "continue" ? "continue" : "fail" });
  }
  return steps;
}

/** The file's named `matchers`, compiled as `when` conditions; a matcher's failures name it as their source. */
function loadMatchers(spec: Record<string, unknown>, issues: PointerIssue[], flawed: Flawed): Map<string, Predicate> {
  const matchers = new Map<string, Predicate>();
  for (const [name, condition] of Object.entries(isObject(spec.matchers) ? spec.matchers : {})) {
    const at = joinPointer("/matchers", name);
    const predicate = flawed(at) ? undefined : compileAt(condition as Condition, at, `matcher ${name}`, issues);
    if (predicate) matchers.set(name, predicate);
  }
  return matchers;
}

/** A condition compiled, or undefined with its problem among `issues` at the offending node. */
function compileAt(condition: Condition, pointer: string, source: string, issues: PointerIssue[]): Predicate | undefined {
  try {
    return compileCondition(condition, pointer, source);
  } catch (err) {
    if (!(err instanceof ConditionError)) throw err;
    issues.push({ pointer: err.pointer, message: err.message });
    return undefined;
  }
}

/** Each step's own check of what it would load, as a problem at the step's `config`. */
async function checkSteps(steps: readonly LoadedStep[], dir: string, issues: PointerIssue[]): Promise<void> {
  const env = { resolvePath: (path: string) => resolve(dir, path) };
  for (const step of steps) {
    if (step.plugin.kind !== "step" || step.plugin.check === undefined) continue;
    try {
      await step.plugin.check(step.config, env);
    } catch (err) {
      issues.push({ pointer: joinPointer("/steps", step.index, "config"), message: (err as Error).message });
    }
  }
}

async function findPlugin(use: string, kind: "step" | "provider", dir: string, registry: PluginRegistry, pointer: string, issues: PointerIssue[]): Promise<Plugin | undefined> {
  let plugin: Plugin | undefined;
  try {
    plugin = await registry.resolve(use, dir);
  } catch (err) {
    if (!(err instanceof PluginLoadError)) throw err;
    issues.push({ pointer, message: err.message });
    return undefined;
  }
  const needs = kind === "step" ? "a step needs a step plugin" : "a backend needs a provider plugin";
  if (!plugin) {
    const known = registry.list().filter((p) => p.kind === kind).map((p) => p.name);
    const list = known.length > 0 ? `known ${kind} plugins: ${known.join(", ")}` : `no ${kind} plugins are installed`;
    issues.push({ pointer, message: `unknown ${kind} plugin "${use}"; ${list}` });
  } else if (plugin.kind !== kind) {
    issues.push({ pointer, message: `"${use}" is a ${plugin.kind} plugin; ${needs}` });
  }
  return plugin;
}

/** The plugin's config, checked and with its defaults; written back into the spec too. */
function checkPluginConfig(plugin: Plugin, owner: Record<string, unknown>, at: string, issues: PointerIssue[], flawed: Flawed): unknown {
  const pointer = `${at}/config`;
  if (flawed(pointer)) return owner.config;
  const checked = checkConfig(plugin.configSchema, owner.config);
  if (!checked.ok) {
    for (const issue of checked.issues) {
      const key = issue.message.startsWith("unknown property") ? ("key" as const) : undefined;
      issues.push({ pointer: pointer + issue.pointer, message: `${plugin.name} config: ${issue.message}`, at: key });
    }
    return owner.config;
  }
  owner.config = checked.value;
  return checked.value;
}

function locateAll(doc: JsonDocument, file: string, issues: PointerIssue[]): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const issue of issues) {
    const { line, col, message } = doc.locate(issue);
    const problem = { file, line, col, message: redactSecrets(message) };
    const key = `${line}:${col}:${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}
