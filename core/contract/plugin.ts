/**
 * What a plugin module exports (its default export), by kind:
 * - `step`: taps the pipeline's phase hooks (auth, validate, select-*, translate, stream, cost, record…),
 *   and may serve kinds of route (`endpoints`: usage, models, count-tokens, proxy…);
 * - `provider`: turns a backend's config into calls to an upstream;
 * - `format`: translates one wire format to and from the IR.
 * Every plugin ships a JSON Schema for its config; the core validates config against it at load
 * (ajv strict, defaults applied, no coercion, unknown keys rejected) before `create` sees it.
 */
import type { FormatTranslator } from "./format.js";
import type { PipelineHooks } from "./hooks.js";
import type { Backend, Predicate } from "./exchange.js";
import type { Logger } from "./log.js";
import type { Provider } from "./provider.js";
import type { StateStore } from "./store.js";

export type JsonSchema = Record<string, unknown>;

export interface FormatRegistry {
  get(format: string): FormatTranslator | undefined;
  /** Every known format key. */
  list(): string[];
}

/** What a plugin instance may use from the gateway. */
export interface PluginEnv {
  readonly pipelineId: string;
  /** The step's id (or the backend's id, for providers). */
  readonly id: string;
  /** Folder of the pipeline file: relative paths in config resolve against it. */
  readonly baseDir: string;
  readonly log: Logger;
  readonly formats: FormatRegistry;
  /** The pipeline's backends (empty for providers, which are built first). */
  readonly backends: ReadonlyMap<string, Backend>;
  /** The pipeline's shared state (its `store` property: memory, or Redis shared by every instance). */
  readonly store: StateStore;
  /** The pipeline file's named `matchers` (fail closed, as `when` does). */
  readonly matchers: ReadonlyMap<string, Predicate>;
  /** `path` resolved against the pipeline file's folder. */
  resolvePath(path: string): string;
}

/**
 * A CLI command a plugin contributes: `switchyard <name> ...args` runs it (`switchyard keys add`
 * is auth-api-key's `keys`). It runs outside any pipeline, so it gets no PluginEnv: only its args.
 */
export interface PluginCommand {
  /** Shown by `switchyard help`: the arguments it takes and what it does (may span lines). */
  readonly description: string;
  /** Runs with the arguments after the command's name; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

interface PluginBase {
  /** The plugin's name: its folder name and the `use` value that selects it. */
  readonly name: string;
  /** One line for `switchyard plugins`. */
  readonly description: string;
  readonly configSchema: JsonSchema;
  /** CLI commands by name (lower-case words joined by `-`); a name may not be a core command's or another plugin's. */
  readonly commands?: Readonly<Record<string, PluginCommand>>;
}

export interface StepInstance {
  /** Register taps; work happens when the hooks fire. */
  apply(hooks: PipelineHooks): void;
  /** Flush and release (record sinks flush here on shutdown). */
  close?(): Promise<void>;
}

/**
 * A kind of route a step plugin serves (`routes[].endpoint`), answered by tapping `hooks.endpoint.for(kind)`;
 * declared so the loader checks every route first: one no step declares is an error at its `file:line:col`.
 */
export interface EndpointSpec {
  /** What the route answers, for `switchyard plugins` and load errors. */
  readonly description: string;
  /**
   * `json`: the core reads the body as a JSON object before auth, and peeks its model and stream
   * flag, as for model requests (steps and `when` conditions see it). `handler`: the core leaves
   * the body alone; the endpoint reads it, streams it or ignores it.
   */
  readonly body: "json" | "handler";
  /**
   * `exact` (default): the route's path as written. `prefix`: the path and everything below it
   * (`/api` takes `/api/x/y?q=1`, not `/apix`), every method unless the route names one; the
   * longest prefix wins, and exact routes win over prefixes.
   */
  readonly match?: "exact" | "prefix";
  /**
   * For operators: only callers whose auth step set `role: "admin"` pass; the validate phase is
   * skipped (limits and guards are for model traffic), and a log line replaces the record (an
   * admin call is no model request and must not count in the usage it reports).
   */
  readonly admin?: boolean;
  /** For operators though open to anyone (a dashboard page that holds no data): served with the admin routes on the admin listener when there is one. */
  readonly operator?: boolean;
  /** The route formats it answers in; any format when absent. */
  readonly formats?: readonly string[];
}

export interface StepPlugin<Config = unknown> extends PluginBase {
  readonly kind: "step";
  /** Kinds of route this step serves, by the name routes give in `endpoint`. */
  readonly endpoints?: Readonly<Record<string, EndpointSpec>>;
  create(config: Config, env: PluginEnv): StepInstance | Promise<StepInstance>;
  /** `switchyard check`: load what `create` would read (a keys file…); reject with what an operator must fix. */
  check?(config: Config, env: Pick<PluginEnv, "resolvePath">): Promise<void>;
}

export interface ProviderPlugin<Config = unknown> extends PluginBase {
  readonly kind: "provider";
  create(config: Config, env: PluginEnv): Provider | Promise<Provider>;
}

export interface FormatPlugin extends PluginBase {
  readonly kind: "format";
  /** The format key routes use (`openai-chat`…). */
  readonly format: string;
  readonly translator: FormatTranslator;
}

export type Plugin = StepPlugin<any> | ProviderPlugin<any> | FormatPlugin;

/** Typing aid for a plugin's default export: `export default definePlugin({...})`. */
export function definePlugin<C>(plugin: StepPlugin<C>): StepPlugin<C>;
export function definePlugin<C>(plugin: ProviderPlugin<C>): ProviderPlugin<C>;
export function definePlugin(plugin: FormatPlugin): FormatPlugin;
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}
