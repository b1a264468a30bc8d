/**
 * The gateway-control question, between the process that loads and mounts the pipelines
 * (cli/reload.ts answers it on every mounted pipeline's hooks) and the steps that show or steer
 * it (admin-api; metrics reads `lastReload`): the pipelines serving now, as their files describe
 * them, the last reload's result, and a reload to run. A pipeline compiled on its own (a plugin
 * test) has no one answering: the asker gets undefined.
 */
import type { AsyncSeriesBailHook } from "tapable";
import type { Exchange, PipelineHooks, RouteInfo } from "../../core/index.js";

export type ReloadTrigger = "start" | "watch" | "signal" | "admin";

/** One load-check-swap, as the admin API shows it and metrics count it. */
export interface ReloadResult {
  ok: boolean;
  trigger: ReloadTrigger;
  /** ISO time it finished. */
  at: string;
  durationMs: number;
  /** Pipeline ids serving after it: the new ones, or the old ones still serving when it failed. */
  pipelines: string[];
  /** Each problem as `switchyard check` prints it (`file:line:col: message`); empty when ok. */
  errors: string[];
  /** Parts the new pipelines took over from the old, state and all (breakers, counters, windows); absent when it failed. */
  kept?: { stores: number; backends: number; steps: number };
}

/** A mounted pipeline as its file describes it (no config: it may hold resolved secrets). */
export interface MountedPipeline {
  id: string;
  file: string;
  description?: string;
  routes: readonly RouteInfo[];
  /** In file order; `when` as written. */
  steps: { id: string; use: string; when?: unknown; onError: "fail" | "continue" }[];
  backends: { id: string; use: string; models: string[] }[];
  /** Its hooks, to ask it questions of its own (backend states, traffic). */
  hooks: PipelineHooks;
}

/** The ports the gateway listens on: `admin` when operator routes have a listener of their own (`serve --admin-port`). */
export interface GatewayListeners {
  port: number;
  adminPort?: number;
}

export interface GatewayControl {
  pipelines(): readonly MountedPipeline[];
  /** Undefined until the gateway says where it listens (a gateway assembled in a test may never). */
  listeners(): GatewayListeners | undefined;
  lastReload(): ReloadResult | undefined;
  /** Load, check and swap; "busy" while another reload runs (reloads never interleave). */
  reload(trigger: ReloadTrigger): Promise<ReloadResult | "busy">;
}

function controlQueries(hooks: PipelineHooks): AsyncSeriesBailHook<[undefined, Exchange | undefined], GatewayControl | undefined> {
  return hooks.query.for("gateway-control") as unknown as AsyncSeriesBailHook<[undefined, Exchange | undefined], GatewayControl | undefined>;
}

/** The gateway's control, when the pipeline runs in a gateway that offers it. */
export function askGatewayControl(hooks: PipelineHooks): Promise<GatewayControl | undefined> {
  return controlQueries(hooks).promise(undefined, undefined);
}

/** For whoever mounts pipelines: answers the question on `hooks`. */
export function answerGatewayControl(hooks: PipelineHooks, control: GatewayControl): void {
  controlQueries(hooks).tap("gateway-control", () => control);
}
