/**
 * A step's `when` and `onError` around every tap it registers, through tapable's register
 * interceptors: while a step's `apply()` runs, each tap it makes is wrapped so that it runs only
 * when the step's condition matches, and so that its errors follow the step's `onError`. Taps of
 * steps with neither are left as they are: no wrapper on the hot path. Go-to-definition on a hook
 * still lands on the hook, since nothing stands in for it.
 */
import { HookMap } from "tapable";
import type { Exchange } from "../contract/exchange.js";
import { GatewayError, asGatewayError } from "../contract/errors.js";
import type { HookName, PipelineHooks } from "../contract/hooks.js";
import type { LoadedStep } from "../contract/loaded-pipeline.js";
import type { Predicate } from "../contract/exchange.js";
import type { Logger } from "../contract/log.js";
import type { StepInstance } from "../contract/plugin.js";

/** Which argument of each hook is the Exchange. */
const EXCHANGE_ARG: Record<HookName, number> = {
  auth: 0, validate: 0, plan: 1, translate: 0, streamPolicy: 1, attemptStarted: 0, attemptFinished: 0,
  usage: 0, settle: 0, record: 1, endpoint: 0, query: 1,
};
/** Waterfall hooks pass their value on when a step is skipped. */
const WATERFALL: ReadonlySet<HookName> = new Set(["plan", "streamPolicy"]);
/** After the response: a failing step there must never fail (or delay) the request. */
const ISOLATED: ReadonlySet<HookName> = new Set(["settle", "record"]);

type AnyFn = (...args: unknown[]) => unknown;
type RegisteredTap = { type: "sync" | "async" | "promise"; fn: AnyFn; step?: string };
type Interceptable = { intercept(interceptor: { register: (tap: RegisteredTap) => RegisteredTap }): void };

export class StepGates {
  private applying: LoadedStep | undefined;
  private readonly hooksOf = new Map<string, Set<string>>();

  constructor(private readonly hooks: PipelineHooks, private readonly log: Logger) {
    for (const name of Object.keys(hooks) as HookName[]) {
      const hook = hooks[name] as unknown;
      if (hook instanceof HookMap) hook.intercept({ factory: (_key: unknown, keyed: Interceptable) => (this.watch(name, keyed), keyed) });
      else this.watch(name, hook as Interceptable);
    }
  }

  /** Runs `instance.apply` with every tap it registers gated by `step`'s `when` and `onError`. */
  apply(step: LoadedStep, instance: StepInstance): void {
    this.applying = step;
    try {
      instance.apply(this.hooks);
    } finally {
      this.applying = undefined;
    }
  }

  /** The hooks `step` tapped, in the order it first tapped each. */
  tapped(step: string): string[] {
    return [...(this.hooksOf.get(step) ?? [])];
  }

  private watch(name: HookName, hook: Interceptable): void {
    hook.intercept({ register: (tap) => this.gate(name, tap) });
  }

  private gate(name: HookName, tap: RegisteredTap): RegisteredTap {
    const step = this.applying;
    if (step === undefined) return tap;
    if (tap.type === "async") throw new Error(`step ${step.id}: callback-style taps are not supported; use tap or tapPromise`);
    this.hooksOf.set(step.id, (this.hooksOf.get(step.id) ?? new Set()).add(name));
    if (step.when === undefined && step.onError !== "continue" && !ISOLATED.has(name)) return { ...tap, step: step.id };
    return { ...tap, step: step.id, fn: gated(name, step, tap.fn, tap.type === "promise", this.log) };
  }
}

function gated(name: HookName, step: LoadedStep, fn: AnyFn, isAsync: boolean, log: Logger): AnyFn {
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
