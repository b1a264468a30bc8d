/**
 * The one place an Exchange is made (by the server per request, by the testkit for plugin tests): every
 * exchange has the same fields in the same order, one object shape for V8 and no field a test forgot.
 */
import type { Exchange } from "../contract/exchange.js";

export type ExchangeStart = Pick<Exchange, "id" | "clientRequestId" | "pipelineId" | "route" | "format" | "headers" | "inbound" | "signal">;

export function newExchange(start: ExchangeStart): Exchange {
  return {
    id: start.id,
    clientRequestId: start.clientRequestId,
    startedAt: Date.now(),
    startedHr: performance.now(),
    pipelineId: start.pipelineId,
    route: start.route,
    format: start.format,
    headers: start.headers,
    inbound: start.inbound,
    signal: start.signal,
    body: {},
    model: undefined,
    upstreamHeaders: undefined,
    stream: false,
    responseHeaders: {},
    headersSent: false,
    attempts: [],
    notes: [],
  };
}
