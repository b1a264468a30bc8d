/** The record of one finished request, as sinks (`record-jsonl`, `record-postgres`) store it. */
import type { AttemptOutcome } from "./exchange.js";
import type { IrUsage } from "./ir.js";

export interface RequestRecord {
  id: string;
  /** ISO time of arrival. */
  time: string;
  pipeline: string;
  route: string;
  format: string;
  tenant?: string;
  keyId?: string;
  /** The client's own `x-request-id`, kept apart: `id` is the gateway's and unique. */
  clientRequestId?: string;
  backend?: string;
  model?: string;
  upstreamModel?: string;
  stream: boolean;
  status: number;
  latencyMs: number;
  ttfbMs?: number;
  usage?: IrUsage;
  /** Why the answer ended, as the backend's format writes it (`stop`, `end_turn`, `STOP`, `max_output_tokens`…). */
  finishReason?: string;
  /** USD; null when the price is unknown. */
  costUsd: number | null;
  /** A cache step's verdict (Exchange.cache), and on a hit the USD the upstream call would have cost. */
  cache?: "hit" | "miss" | "bypass";
  savedCostUsd?: number | null;
  attempts: AttemptOutcome[];
  error?: { type: string; code: string; message: string };
  notes?: string[];
  /** A WebSocket session's totals (client upgraded): set on the exchange by the endpoint that relayed it. */
  session?: Readonly<Record<string, unknown>>;
}
