/**
 * LoadedPipeline -> runnable, frozen CompiledPipeline: providers and steps created, taps applied
 * in file order, `when`/`onError` wrapped around each step's taps (step-gates.ts), the model ->
 * backends index built. Everything here happens once at load, never per request.
 */
import { resolve } from "node:path";
import { GENERATE_ENDPOINT, type PipelineView } from "../contract/endpoint.js";
import { GatewayError } from "../contract/errors.js";
import type { Backend } from "../contract/exchange.js";
import type { Store } from "../contract/generated/pipeline.js";
import { PipelineHooks } from "../contract/hooks.js";
import type { LoadedPipeline } from "../contract/loaded-pipeline.js";
import type { Logger } from "../contract/log.js";
import type { FormatRegistry, PluginEnv, StepInstance } from "../contract/plugin.js";
import type { StateStore } from "../contract/store.js";
import { createModelIndex } from "./model-index.js";
import { StepGates } from "./step-gates.js";

export interface CompiledPipeline extends PipelineView {
  readonly hooks: PipelineHooks;
  readonly file: string;
  readonly formats: FormatRegistry;
  /** Shared state of this pipeline's plugins (memory, or Redis shared by every instance). */
  readonly store: StateStore;
  /** Its store, backends and step instances by what made them (kind, id, config), for a reload to take over. */
  readonly parts: ReadonlyMap<string, object>;
  /** Flushes step state (record sinks) and closes provider pools: each part once its last pipeline let go of it. */
  close(): Promise<void>;
}

export interface CompileOptions {
  log: Logger;
  /**
   * Opens the state store a pipeline's `store` property names. Given by whoever assembles the
   * gateway (the CLI, a test), so that the core loads no store driver.
   */
  openStore(spec: Store | undefined, log: Logger): Promise<StateStore>;
  /** A reload's pipeline this one replaces: what is unchanged (store, backends, steps whose config and backends are) is taken over, state and all. */
  previous?: CompiledPipeline;
}

const holders = new WeakMap<object, number>(); // how many pipelines hold each part: the last to let go closes it

export async function compilePipeline(loaded: LoadedPipeline, options: CompileOptions): Promise<CompiledPipeline> {
  const { spec } = loaded;
  const pipelineLog = options.log.child({ pipeline: spec.id });
  const parts = new Map<string, object>();
  const take = async <T extends object>(key: string, make: () => T | Promise<T>): Promise<T> => {
    const part = (options.previous?.parts.get(key) as T | undefined) ?? (await make());
    holders.set(part, (holders.get(part) ?? 0) + 1);
    return parts.set(key, part) && part;
  };
  let store: StateStore | undefined;
  const envFor = (id: string, backends: ReadonlyMap<string, Backend>): PluginEnv => ({
    pipelineId: spec.id, id, baseDir: loaded.dir, log: pipelineLog.child({ plugin: id }), formats: loaded.formats, backends, store: store!, matchers: loaded.matchers,
    resolvePath: (p: string) => resolve(loaded.dir, p),
  });

  const backends = new Map<string, Backend>();
  try {
    store = await take(`store ${JSON.stringify(spec.store ?? null)}`, () => options.openStore(spec.store, pipelineLog));
    for (const b of loaded.backends) {
      const made = async () => Object.freeze({ id: b.id, use: b.use, provider: await b.plugin.create(b.config, envFor(b.id, new Map())), models: b.models, modelMap: b.modelMap });
      backends.set(b.id, await take(`backend ${b.id} ${JSON.stringify([b.use, b.config, b.models, b.modelMap])}`, made));
    }
    if (loaded.routes.some((r) => r.endpoint === GENERATE_ENDPOINT)) checkModelFormats(backends);
    const hooks = new PipelineHooks();
    const gates = new StepGates(hooks, pipelineLog);
    const sees = [...parts.keys()].join("\n"); // a step is taken over only with the same store, backends and matchers
    for (const step of loaded.steps) {
      gates.apply(step, await take(`step ${step.id} ${JSON.stringify([step.use, step.config, spec.matchers ?? {}])} ${sees}`, () => step.plugin.create(step.config, envFor(step.id, backends))));
    }
    checkEndpointsServed(loaded, hooks);
    return Object.freeze({
      id: spec.id,
      file: loaded.file,
      routes: loaded.routes,
      steps: loaded.steps.map((s) => ({ id: s.id, use: s.use, when: s.when, hooks: gates.tapped(s.id) })),
      hooks,
      backends,
      formats: loaded.formats,
      models: createModelIndex([...backends.values()], spec.models ?? {}),
      limits: { maxBodyBytes: spec.limits?.maxBodyBytes ?? 4 * 1024 * 1024, replayBodyBytes: spec.limits?.replayBodyBytes ?? 64 * 1024 },
      attempts: {
        maxAttempts: spec.attempts?.maxAttempts ?? 3, on: spec.attempts?.on ?? ["connect", "timeout", 429, "5xx"], backoffMs: spec.attempts?.backoffMs ?? 200,
        maxBackoffMs: spec.attempts?.maxBackoffMs ?? 5000, maxRetryAfterMs: spec.attempts?.maxRetryAfterMs ?? 30_000,
      },
      timeouts: { firstByteMs: spec.timeouts?.firstByteMs ?? 120_000, idleMs: spec.timeouts?.idleMs ?? 120_000, totalMs: spec.timeouts?.totalMs ?? 600_000 },
      log: pipelineLog,
      store,
      parts,
      close: () => letGo(parts, pipelineLog),
    });
  } catch (err) {
    await letGo(parts, pipelineLog);
    throw err;
  }
}

/** The loader checked that some step declares each route's endpoint; this checks that it also taps it. */
function checkEndpointsServed(loaded: LoadedPipeline, hooks: PipelineHooks): void {
  for (const route of loaded.routes) {
    if (route.endpoint === GENERATE_ENDPOINT || (hooks.endpoint.get(route.endpoint)?.taps.length ?? 0) > 0) continue;
    throw configError("core", `route ${route.method} ${route.path}: no step of pipeline ${loaded.spec.id} answers endpoint "${route.endpoint}" (a plugin declares it but taps no hooks.endpoint.for("${route.endpoint}"))`);
  }
}

/** A backend of a pipeline with model routes must speak some model format (provider-http speaks none). */
function checkModelFormats(backends: ReadonlyMap<string, Backend>): void {
  for (const b of backends.values()) {
    if (b.provider.formats.length > 0) continue;
    throw configError(b.id, `backend ${b.id} (${b.use}) speaks no model format, so it cannot serve this pipeline's model routes; put http backends in a pipeline of proxy routes`);
  }
}

function configError(source: string, message: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", source, message });
}

async function letGo(parts: ReadonlyMap<string, object>, log: Logger): Promise<void> {
  const last = [...parts].filter(([, part]) => holders.set(part, holders.get(part)! - 1).get(part) === 0);
  const ofKind = <T>(kind: string) => last.filter(([key]) => key.startsWith(kind)).map(([, part]) => part as T);
  // Steps first: record sinks flush while providers are still open (nothing needs them, but order is cheap insurance).
  for (const r of await Promise.allSettled(ofKind<StepInstance>("step ").map((i) => i.close?.()))) {
    if (r.status === "rejected") log.error({ err: String(r.reason) }, "step failed to close");
  }
  await Promise.allSettled(ofKind<Backend>("backend ").map((b) => b.provider.close()));
  for (const store of ofKind<StateStore>("store ")) await store.close().catch((err: unknown) => log.warn({ err: String(err) }, "state store failed to close"));
}
