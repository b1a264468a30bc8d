/**
 * The backend-state question between the steps that watch backends (health-breaker,
 * health-active) and the ones that show them (metrics, the admin API, explain). Unlike `usage`,
 * several steps hold a part of the answer, so every tap adds what it knows to one report and
 * returns undefined: all of them run, and the asker reads the filled report.
 */
import type { AsyncSeriesBailHook } from "tapable";
import type { Exchange, PipelineHooks } from "../../core/index.js";

/** What the health steps know of one backend; a part is absent when no step of that kind is in the pipeline. */
export interface BackendState {
  /** health-breaker's circuit. */
  breaker?: {
    state: "closed" | "open" | "half-open";
    /** Kept back by a 429's retry-after, with the circuit closed. */
    rateLimited: boolean;
    /** Milliseconds until the backend may be tried first again (0 when it may now). */
    availableInMs: number;
  };
  /** health-active's prober. */
  probe?: { healthy: boolean };
  /** An MCP server (mcp-gateway): up or not, and how often a list left it out for not answering. */
  mcp?: { up: boolean; reason?: string; leftOutOfLists: number };
}

/** Backend id -> what is known of it. */
export type BackendStates = Map<string, BackendState>;

function backendStateQueries(hooks: PipelineHooks): AsyncSeriesBailHook<[BackendStates, Exchange | undefined], undefined> {
  return hooks.query.for("backend-states") as unknown as AsyncSeriesBailHook<[BackendStates, Exchange | undefined], undefined>;
}

/** Every health step's view of the pipeline's backends (an empty map when the pipeline has none). */
export async function askBackendStates(hooks: PipelineHooks, exchange?: Exchange): Promise<BackendStates> {
  const states: BackendStates = new Map();
  await backendStateQueries(hooks).promise(states, exchange);
  return states;
}

/** For a health step: adds its part of each backend's state when asked. */
export function answerBackendStates(hooks: PipelineHooks, step: string, fill: (states: BackendStates) => void): void {
  backendStateQueries(hooks).tap(step, (states) => {
    fill(states);
    return undefined;
  });
}

/** The entry for `backend`, created empty on first use. */
export function stateOf(states: BackendStates, backend: string): BackendState {
  let state = states.get(backend);
  if (state === undefined) states.set(backend, (state = {}));
  return state;
}
