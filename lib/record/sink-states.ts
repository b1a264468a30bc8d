/**
 * The sink-state question between the record sinks (record-jsonl, record-postgres) and the steps
 * that show how far behind they are (metrics, the admin API). As with backend states, every sink
 * adds its own entry to one report and returns undefined, so all of them answer.
 */
import type { AsyncSeriesBailHook } from "tapable";
import type { Exchange, PipelineHooks } from "../../core/index.js";

/** What one sink holds that is not yet where it stores records. */
export interface SinkState {
  /** The sink's plugin (`record-postgres`…). */
  plugin: string;
  /** Records accepted and not yet written (buffered in memory). */
  pendingRecords: number;
  /** Bytes waiting in a local spool for the store to come back (sinks that spool); absent otherwise. */
  spooledBytes?: number;
}

/** Step id -> its state. */
export type SinkStates = Map<string, SinkState>;

function sinkStateQueries(hooks: PipelineHooks): AsyncSeriesBailHook<[SinkStates, Exchange | undefined], undefined> {
  return hooks.query.for("sink-states") as unknown as AsyncSeriesBailHook<[SinkStates, Exchange | undefined], undefined>;
}

/** Every record sink's backlog (an empty map when the pipeline has none that answers). */
export async function askSinkStates(hooks: PipelineHooks, exchange?: Exchange): Promise<SinkStates> {
  const states: SinkStates = new Map();
  await sinkStateQueries(hooks).promise(states, exchange);
  return states;
}

/** For a record sink: reports its backlog under its step id when asked. Must be cheap: metrics ask at every scrape. */
export function answerSinkStates(hooks: PipelineHooks, step: string, read: () => SinkState): void {
  sinkStateQueries(hooks).tap(step, (states) => {
    states.set(step, read());
    return undefined;
  });
}
