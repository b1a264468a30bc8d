/**
 * The open-WebSocket question between the steps that relay sessions (http-proxy, realtime) and the
 * ones that show them (metrics, the admin API): every relaying step adds its live counts to one
 * report and returns undefined, so all of them run and the asker reads the sum.
 */
import type { AsyncSeriesBailHook } from "tapable";
import type { Exchange, PipelineHooks } from "../../core/index.js";

/** Live counts of one step's sessions; bytes and sessions since the step was built. */
export interface WebSocketCounts {
  /** Sessions open now. */
  open: number;
  /** Sessions accepted so far. */
  accepted: number;
  /** Message payload bytes, client -> upstream and upstream -> client. */
  bytesUp: number;
  bytesDown: number;
}

/** Step id -> its counts. */
export type WebSocketReport = Map<string, WebSocketCounts>;

function sessionQueries(hooks: PipelineHooks): AsyncSeriesBailHook<[WebSocketReport, Exchange | undefined], undefined> {
  return hooks.query.for("websocket-sessions") as unknown as AsyncSeriesBailHook<[WebSocketReport, Exchange | undefined], undefined>;
}

/** Every relaying step's counts (an empty map when the pipeline relays no WebSockets). */
export async function askWebSocketSessions(hooks: PipelineHooks, exchange?: Exchange): Promise<WebSocketReport> {
  const report: WebSocketReport = new Map();
  await sessionQueries(hooks).promise(report, exchange);
  return report;
}

/** One step's live counts, kept as its sessions run and given when asked. */
export class SessionCounter {
  readonly counts: WebSocketCounts = { open: 0, accepted: 0, bytesUp: 0, bytesDown: 0 };

  /** Answers the question for `step` on `hooks`. */
  answer(hooks: PipelineHooks, step: string): void {
    sessionQueries(hooks).tap(step, (report) => {
      report.set(step, { ...this.counts });
      return undefined;
    });
  }

  opened(): void {
    this.counts.open++;
    this.counts.accepted++;
  }

  closed(): void {
    this.counts.open--;
  }

  /** For SessionRelay's `counted` hook. */
  readonly count = (direction: "up" | "down", bytes: number): void => {
    if (direction === "up") this.counts.bytesUp += bytes;
    else this.counts.bytesDown += bytes;
  };
}
