/**
 * LoadedPipeline -> runnable, frozen CompiledPipeline: providers and steps created, taps applied
 * in file order, `when`/`onError` wrapped around each step's taps, the model -> backends index
 * built. Everything here happens once at load, never per request.
 */
import { GatewayError, asGatewayError } from "../contract/errors.js";
import type { Attempt, Backend, Exchange, RouteInfo } from "../contract/exchange.js";
import type { Attempts, Limits, Timeouts } from "../contract/generated/pipeline.js";
import { PipelineHooks, type HookName } from "../contract/hooks.js";
import { HTTP_FORMAT } from "./http-format.js";
import type { LoadedPipeline, LoadedStep, Predicate } from "../contract/loaded-pipeline.js";
import type { Logger } from "../contract/log.js";
import { createModelIndex, type ModelIndex } from "./model-index.js";
import type { FormatRegistry, PluginEnv, StepInstance } from "../contract/plugin.js";
import { resolve } from "node:path";
import { openStateStore } from "../../lib/state/open.js";
import { type StateStore } from "../contract/store.js";

export interface CompiledPipeline {
  readonly id: string;
  readonly file: string;
  readonly routes: readonly RouteInfo[];
  readonly hooks: PipelineHooks;
  readonly backends: ReadonlyMap<string, Backend>;
  readonly formats: FormatRegistry;
  readonly models: ModelIndex;
  readonly limits: Required<Limits>;
  readonly attempts: Required<Attempts>;
  readonly timeouts: Required<Timeouts>;
  readonly log: Logger;
  /** Shared state of this pipeline's plugins (memory, or Redis shared by every instance). */
  readonly store: StateStore;
  /** Flushes step state (record sinks) and closes provider pools. */
  close(): Promise<void>;
}

export async function compilePipeline(loaded: LoadedPipeline, log: Logger): Promise<CompiledPipeline> {
  const { spec } = loaded;
  const pipelineLog = log.child({ pipeline: spec.id });
  const store = await openStateStore(spec.store, pipelineLog);
  const envFor = (id: string, backends: ReadonlyMap<string, Backend>): PluginEnv => ({
    pipelineId: spec.id,
    id,
    baseDir: loaded.dir,
    log: pipelineLog.child({ plugin: id }),
    formats: loaded.formats,
    backends,
    store,
    resolvePath: (p: string) => resolve(loaded.dir, p),
  });

  const backends = new Map<string, Backend>();
  const instances: StepInstance[] = [];
  try {
    for (const b of loaded.backends) {
      const provider = await b.plugin.create(b.config, envFor(b.id, new Map()));
      backends.set(b.id, Object.freeze({ id: b.id, use: b.use, provider, models: b.models, modelMap: b.modelMap }));
    }
    if (loaded.routes.some((r) => r.format === HTTP_FORMAT)) checkForwarding(backends);
    if (loaded.routes.some((r) => r.format !== HTTP_FORMAT && r.endpoint === "generate")) checkModelFormats(backends);
    const hooks = new PipelineHooks();
    for (const step of loaded.steps) {
      const instance = await step.plugin.create(step.config, envFor(step.id, backends));
      instance.apply(gateStepHooks(hooks, step, pipelineLog));
      instances.push(instance);
    }
    return Object.freeze({
      id: spec.id,
      file: loaded.file,
      routes: loaded.routes,
      hooks,
      backends,
      formats: loaded.formats,
      models: createModelIndex([...backends.values()], spec.models ?? {}),
      limits: { maxBodyBytes: spec.limits?.maxBodyBytes ?? 4 * 1024 * 1024, replayBodyBytes: spec.limits?.replayBodyBytes ?? 64 * 1024 },
      attempts: {
        maxAttempts: spec.attempts?.maxAttempts ?? 3,
        on: spec.attempts?.on ?? ["connect", "timeout", 429, "5xx"],
        backoffMs: spec.attempts?.backoffMs ?? 200,
        maxBackoffMs: spec.attempts?.maxBackoffMs ?? 5000,
        maxRetryAfterMs: spec.attempts?.maxRetryAfterMs ?? 30_000,
      },
      timeouts: {
        firstByteMs: spec.timeouts?.firstByteMs ?? 120_000,
        idleMs: spec.timeouts?.idleMs ?? 120_000,
        totalMs: spec.timeouts?.totalMs ?? 600_000,
      },
      log: pipelineLog,
      store,
      close: () => closeAll(instances, backends, store, pipelineLog),
    });
  } catch (err) {
    await closeAll(instances, backends, store, pipelineLog);
    throw err;
  }
}

/** An http route sends every request to any backend: each must be able to proxy one. */
function checkForwarding(backends: ReadonlyMap<string, Backend>): void {
  if (backends.size === 0) {
    throw new GatewayError({ status: 500, type: "internal", code: "invalid_config", source: "core", message: "a pipeline with http routes needs at least one backend (provider-http)" });
  }
  for (const b of backends.values()) {
    if (b.provider.forward !== undefined) continue;
    throw new GatewayError({
      status: 500, type: "internal", code: "invalid_config", source: b.id,
      message: `backend ${b.id} (${b.use}) cannot serve this pipeline's http routes: its provider does not forward requests; use provider-http, or move the http routes to a pipeline of their own`,
    });
  }
}

/** A backend of a pipeline with model routes must speak some model format (provider-http speaks none). */
function checkModelFormats(backends: ReadonlyMap<string, Backend>): void {
  for (const b of backends.values()) {
    if (b.provider.formats.length > 0) continue;
    throw new GatewayError({
      status: 500, type: "internal", code: "invalid_config", source: b.id,
      message: `backend ${b.id} (${b.use}) speaks no model format, so it cannot serve this pipeline's model routes; put http backends in a pipeline whose routes are all http`,
    });
  }
}

async function closeAll(instances: StepInstance[], backends: Map<string, Backend>, store: StateStore, log: Logger): Promise<void> {
  // Steps first: record sinks flush while providers are still open (nothing needs them, but order is cheap insurance).
  for (const r of await Promise.allSettled(instances.map((i) => i.close?.()))) {
    if (r.status === "rejected") log.error({ err: String(r.reason) }, "step failed to close");
  }
  await Promise.allSettled([...backends.values()].map((b) => b.provider.close()));
  await store.close().catch((err: unknown) => log.warn({ err: String(err) }, "state store failed to close"));
}

/** Which argument of each hook is the Exchange; waterfall hooks pass their value through when a step is skipped. */
const EXCHANGE_ARG: Record<HookName, number> = {
  auth: 0, validate: 0, plan: 1, translate: 0, streamPolicy: 1,
  attemptStarted: 0, attemptFinished: 0, usage: 0, settle: 0, record: 1, queryUsage: 1,
};
const WATERFALL: ReadonlySet<HookName> = new Set(["plan", "streamPolicy"]);
/** After the response: a failing step there must never fail (or delay) the request. */
const ISOLATED: ReadonlySet<HookName> = new Set(["settle", "record"]);

type AnyFn = (...args: unknown[]) => unknown;

/**
 * The hooks as one step sees them: every tap it registers is wrapped so that it runs only when
 * the step's `when` matches, and so that its errors follow the step's `onError`. Steps with
 * neither get the hooks as they are: no wrapper on the hot path.
 */
function gateStepHooks(hooks: PipelineHooks, step: LoadedStep, log: Logger): PipelineHooks {
  const gated = Object.create(null) as Record<HookName, unknown>;
  for (const name of Object.keys(hooks) as HookName[]) {
    const hook = hooks[name];
    const needsGate = step.when !== undefined || step.onError === "continue" || ISOLATED.has(name);
    if (!needsGate) {
      gated[name] = hook;
      continue;
    }
    const wrapped = Object.create(hook) as Record<string, unknown>;
    wrapped.tap = (opts: unknown, fn: AnyFn) => (hook as any).tap(opts, gate(name, step, fn, false, log));
    wrapped.tapPromise = (opts: unknown, fn: AnyFn) => (hook as any).tapPromise(opts, gate(name, step, fn, true, log));
    wrapped.tapAsync = () => {
      throw new Error(`step ${step.id}: callback-style taps are not supported; use tap or tapPromise`);
    };
    gated[name] = wrapped;
  }
  return gated as unknown as PipelineHooks;
}

function gate(name: HookName, step: LoadedStep, fn: AnyFn, isAsync: boolean, log: Logger): AnyFn {
  const when: Predicate | undefined = step.when;
  const skipValue = (args: unknown[]) => (WATERFALL.has(name) ? args[0] : undefined);
  const onFailure = (err: unknown, args: unknown[]): unknown => {
    if (ISOLATED.has(name) || step.onError === "continue") {
      log.warn({ step: step.id, hook: name, err: err instanceof Error ? err.message : String(err) }, "step failed; continuing");
      return skipValue(args);
    }
    throw err instanceof GatewayError ? err : asGatewayError(err, step.id);
  };
  const exchangeArg = EXCHANGE_ARG[name];
  if (isAsync) {
    return async (...args: unknown[]) => {
      // A `when` that cannot be evaluated throws: the request fails closed, whatever onError says.
      if (when && !when(args[exchangeArg] as Exchange)) return skipValue(args);
      try {
        return await fn(...args);
      } catch (err) {
        return onFailure(err, args);
      }
    };
  }
  return (...args: unknown[]) => {
    if (when && !when(args[exchangeArg] as Exchange)) return skipValue(args);
    try {
      return fn(...args);
    } catch (err) {
      return onFailure(err, args);
    }
  };
}

export function noBackendFor(model: string): GatewayError {
  return new GatewayError({ status: 404, type: "not_found", code: "model_not_found", message: `no backend of this pipeline serves model "${model}"`, param: "model" });
}

export type { Attempt };
