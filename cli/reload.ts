/**
 * Hot reload: load and check the pipeline files again, compile them (taking over what did not
 * change: the store, backends, steps with the same config and backends, so breakers, counters and
 * rate-limit windows live on), then swap them into the server in one assignment. Requests in
 * flight finish on the pipelines they started on, which close once those requests end. A file
 * that does not load leaves the old pipelines serving; its problems, `file:line:col` as `switchyard
 * check` prints them, go to the log and to the last reload result. One reload runs at a time.
 * Triggers: a changed pipeline file (`watch`), SIGHUP (cli/main.ts), `POST /admin/reload` (admin-api).
 */
import { watch, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { LoadedPipeline } from "../core/contract/loaded-pipeline.js";
import { redactSecrets, type Logger } from "../core/contract/log.js";
import { compilePipeline, type CompiledPipeline } from "../core/engine/compile.js";
import type { GatewayServer } from "../core/serve/server.js";
import { answerGatewayControl, type GatewayControl, type GatewayListeners, type MountedPipeline, type ReloadResult, type ReloadTrigger } from "../lib/operate/gateway-control.js";
import { openStateStore } from "../lib/state/open.js";
import { formatProblem } from "../load/check.js";
import { loadPipelines } from "../load/load-pipelines.js";
import type { PluginRegistry } from "../load/registry.js";

const PIPELINE_SUFFIX = ".pipeline.json";
/** Editors and deploy tools write a file in several steps (truncate, write, rename): one reload after they settle. */
const WATCH_SETTLE_MS = 150;

export interface ReloaderOptions {
  registry: PluginRegistry;
  log: Logger;
  env?: Record<string, string | undefined>;
  /** Opens each pipeline's store; lib/state's when absent. */
  openStore?: typeof openStateStore;
}

interface Mounted {
  compiled: CompiledPipeline;
  description: MountedPipeline;
}

export class PipelineReloader implements GatewayControl {
  private mounted: Mounted[] = [];
  private last: ReloadResult | undefined;
  private running: Promise<ReloadResult> | undefined;
  /** Pipelines swapped out, closing once their requests end. */
  private readonly retiring = new Set<Promise<void>>();
  private readonly watchers: FSWatcher[] = [];
  private settleTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ports: GatewayListeners | undefined;

  constructor(
    private readonly paths: string[],
    private readonly server: GatewayServer,
    private readonly options: ReloaderOptions,
  ) {}

  /** The pipelines `assembleGateway` compiled at start: mounted already, answered from now on. */
  started(loaded: readonly LoadedPipeline[], compiled: readonly CompiledPipeline[], durationMs: number): void {
    this.mounted = compiled.map((c, i) => this.describe(loaded[i]!, c));
    this.last = { ok: true, trigger: "start", at: new Date().toISOString(), durationMs, pipelines: compiled.map((c) => c.id), errors: [] };
  }

  pipelines(): readonly MountedPipeline[] {
    return this.mounted.map((m) => m.description);
  }

  lastReload(): ReloadResult | undefined {
    return this.last;
  }

  /** Where the server listens, once it does: for `GET /admin/pipelines` to say which port serves each route. */
  listening(ports: GatewayListeners): void {
    this.ports = ports;
  }

  listeners(): GatewayListeners | undefined {
    return this.ports;
  }

  /** "busy" while another reload runs: the admin API answers 409. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult | "busy"> {
    if (this.running) return Promise.resolve("busy");
    return this.run(trigger);
  }

  /** Waits for a reload that runs, then runs one: for the file watcher and SIGHUP, which must not be lost. */
  async reloadAfterCurrent(trigger: ReloadTrigger): Promise<ReloadResult> {
    while (this.running) await this.running;
    return this.run(trigger);
  }

  /** Reloads whenever a `*.pipeline.json` file in the served paths changes (appears, is edited, renamed or removed). */
  async watch(): Promise<void> {
    const dirs = new Set<string>();
    for (const path of this.paths) {
      const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
      dirs.add(isDir ? resolve(path) : dirname(resolve(path)));
    }
    for (const dir of dirs) {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || !String(name).endsWith(PIPELINE_SUFFIX)) return;
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => void this.reloadAfterCurrent("watch"), WATCH_SETTLE_MS);
      });
      watcher.on("error", (err) => this.options.log.warn({ dir, err: String(err) }, "pipeline folder watch failed; reload with SIGHUP or POST /admin/reload"));
      this.watchers.push(watcher);
    }
  }

  /** Resolves once the pipelines swapped out so far have closed (each after its last request ended). */
  async retired(): Promise<void> {
    await Promise.allSettled([...this.retiring]);
  }

  /** Stops watching and refusing reloads, then waits for the pipelines swapped out to close (after the server drained). */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.settleTimer);
    for (const w of this.watchers) w.close();
    await this.running;
    await Promise.allSettled([...this.retiring]);
  }

  private run(trigger: ReloadTrigger): Promise<ReloadResult> {
    const running = this.loadAndSwap(trigger).then((result) => {
      this.last = result;
      if (result.ok) this.options.log.info({ trigger, pipelines: result.pipelines, kept: result.kept, durationMs: result.durationMs }, "pipelines reloaded");
      else this.options.log.error({ trigger, errors: result.errors }, "pipeline reload failed; the pipelines loaded before keep serving");
      return result;
    });
    this.running = running;
    return running.finally(() => (this.running = undefined));
  }

  private async loadAndSwap(trigger: ReloadTrigger): Promise<ReloadResult> {
    const startedAt = performance.now();
    const result = (errors: string[], kept?: ReloadResult["kept"]): ReloadResult => ({
      ok: errors.length === 0, trigger, at: new Date().toISOString(), durationMs: Math.round(performance.now() - startedAt),
      pipelines: this.mounted.map((m) => m.compiled.id), errors, ...(kept ? { kept } : {}),
    });
    if (this.stopped) return result(["the gateway is shutting down"]);
    // The steps' own checks too (keys, pricing files), as `switchyard check` runs them: their problems get a file:line:col.
    const { pipelines: loaded, problems } = await loadPipelines(this.paths, { registry: this.options.registry, env: this.options.env, checkPlugins: true });
    if (problems.length > 0) return result(problems.map(formatProblem));
    if (loaded.length === 0) return result([`no pipeline files found in ${this.paths.join(", ")} (expected *${PIPELINE_SUFFIX})`]);
    const compiled: CompiledPipeline[] = [];
    try {
      for (const l of loaded) {
        const previous = this.mounted.find((m) => m.compiled.file === l.file && m.compiled.id === l.spec.id)?.compiled;
        compiled.push(await compilePipeline(l, { log: this.options.log, openStore: this.options.openStore ?? openStateStore, previous }));
      }
    } catch (err) {
      // Parts taken over stay with the old pipelines, which still hold them.
      await Promise.allSettled(compiled.map((p) => p.close()));
      return result([redactSecrets(err instanceof Error ? err.message : String(err))]);
    }
    const oldParts = new Set(this.mounted.flatMap((m) => [...m.compiled.parts.values()]));
    const kept = { stores: 0, backends: 0, steps: 0 };
    for (const [key, part] of compiled.flatMap((p) => [...p.parts])) {
      if (oldParts.has(part)) kept[`${key.slice(0, key.indexOf(" "))}s` as keyof typeof kept]++;
    }
    this.mounted = compiled.map((c, i) => this.describe(loaded[i]!, c));
    const retired = this.server.swap(compiled);
    this.retiring.add(retired);
    void retired.finally(() => this.retiring.delete(retired));
    return result([], kept);
  }

  private describe(loaded: LoadedPipeline, compiled: CompiledPipeline): Mounted {
    answerGatewayControl(compiled.hooks, this);
    const { spec } = loaded;
    return {
      compiled,
      description: {
        id: spec.id,
        file: loaded.file,
        ...(spec.description === undefined ? {} : { description: spec.description }),
        routes: loaded.routes,
        steps: loaded.steps.map((s) => ({ id: s.id, use: s.use, ...(spec.steps[s.index]?.when === undefined ? {} : { when: withoutSecrets(spec.steps[s.index]!.when) }), onError: s.onError })),
        backends: loaded.backends.map((b) => ({ id: b.id, use: b.use, models: b.models })),
        hooks: compiled.hooks,
      },
    };
  }
}

/** A `when` as written, with any resolved secret (`${env:…}` in a header test) replaced as logs replace it. */
function withoutSecrets(when: unknown): unknown {
  return JSON.parse(redactSecrets(JSON.stringify(when)));
}
