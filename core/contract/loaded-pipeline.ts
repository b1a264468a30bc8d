/**
 * What the loader hands to the compiler: a pipeline file checked against the pipeline schema and
 * every plugin's config schema, secrets resolved, conditions compiled, plugins found. Nothing
 * here has been instantiated yet: core/engine/compile.ts creates providers and steps and wires the hooks.
 */
import type { Predicate, RouteInfo } from "./exchange.js";
import type { Pipeline } from "./generated/pipeline.js";
import type { FormatRegistry, ProviderPlugin, StepPlugin } from "./plugin.js";

export interface LoadedStep {
  /** The step's id (`id`, or `use` when none was given). */
  id: string;
  /** Its position in the file's `steps`. */
  index: number;
  use: string;
  plugin: StepPlugin<unknown>;
  /** Config checked against the plugin's schema, defaults applied, secrets resolved. */
  config: unknown;
  when?: Predicate;
  onError: "fail" | "continue";
}

export interface LoadedBackend {
  id: string;
  use: string;
  plugin: ProviderPlugin<unknown>;
  config: unknown;
  models: string[];
  modelMap: Record<string, string>;
}

export interface LoadedPipeline {
  /** Absolute path of the pipeline file. */
  file: string;
  /** Its folder: relative paths in configs resolve against it. */
  dir: string;
  /** The file as checked, with schema defaults applied and secrets resolved. */
  spec: Pipeline;
  routes: RouteInfo[];
  backends: LoadedBackend[];
  steps: LoadedStep[];
  matchers: ReadonlyMap<string, Predicate>; // the file's named `matchers`, compiled as `when` conditions are
  formats: FormatRegistry;
}
