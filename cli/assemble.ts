/**
 * Pipeline files to a gateway ready to listen: load and check every file, compile each pipeline
 * with the state store drivers from lib/state, and put them behind one server, with the reloader
 * that swaps in new versions of the same files (cli/reload.ts). The one place the parts meet,
 * used by `switchyard serve` and by tests that run a real gateway in process.
 */
import type { Logger } from "../core/contract/log.js";
import type { Problem } from "../load/json-locations.js";
import { compilePipeline, type CompiledPipeline } from "../core/engine/compile.js";
import { GatewayServer } from "../core/serve/server.js";
import { openStateStore } from "../lib/state/open.js";
import { loadPipelines } from "../load/load-pipelines.js";
import { listenerFactory, type ListenerLimits } from "./listener.js";
import { PipelineReloader } from "./reload.js";
import type { PluginRegistry } from "../load/registry.js";

export interface AssembleOptions {
  registry: PluginRegistry;
  log: Logger;
  env?: Record<string, string | undefined>;
  /** Socket limits of the listener (timeouts, connection caps); DEFAULT_LISTENER_LIMITS where unset. */
  listener?: Partial<ListenerLimits>;
  /**
   * A server listening already with no pipelines (`switchyard serve` listens before it loads, so
   * /livez answers and /startupz, /readyz say "starting", "loading" meanwhile): the pipelines are swapped into it.
   */
  server?: GatewayServer;
  /** Opens each pipeline's store (default: lib/state's, from its `store` property); tests pass one with their own clock. */
  openStore?: typeof openStateStore;
}

/** `reloader`: reloads the same paths into the server (SIGHUP, a watched file, the admin API) and answers the gateway-control question. */
export type Assembled = { ok: true; server: GatewayServer; pipelines: CompiledPipeline[]; reloader: PipelineReloader } | { ok: false; problems: Problem[] };

export async function assembleGateway(paths: string[], options: AssembleOptions): Promise<Assembled> {
  const startedAt = performance.now();
  const { pipelines: loaded, problems } = await loadPipelines(paths, { registry: options.registry, env: options.env });
  if (problems.length > 0) return { ok: false, problems };
  const pipelines: CompiledPipeline[] = [];
  try {
    for (const l of loaded) pipelines.push(await compilePipeline(l, { log: options.log, openStore: options.openStore ?? openStateStore }));
  } catch (err) {
    // One pipeline failed to start: the ones already compiled hold pools and stores to let go of.
    await Promise.allSettled(pipelines.map((p) => p.close()));
    throw err;
  }
  const server = options.server ?? new GatewayServer(pipelines, { log: options.log, createListener: listenerFactory(options.listener) });
  if (options.server) void server.swap(pipelines);
  const reloader = new PipelineReloader(paths, server, options);
  reloader.started(loaded, pipelines, Math.round(performance.now() - startedAt));
  return { ok: true, server, pipelines, reloader };
}
