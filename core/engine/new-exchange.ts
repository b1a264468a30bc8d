/**
 * The one place an Exchange is made (the server for each request, the testkit for plugin tests),
 * so every exchange has the same fields in the same order: one object shape for V8, and no field
 * a test forgot.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Exchange, RouteInfo } from "../contract/exchange.js";
import type { FormatTranslator, InboundRequestInfo } from "../contract/format.js";

export interface ExchangeStart {
  id: string;
  pipelineId: string;
  route: RouteInfo;
  format: FormatTranslator;
  headers: IncomingHttpHeaders;
  inbound: InboundRequestInfo;
  signal: AbortSignal;
}

export function newExchange(start: ExchangeStart): Exchange {
  return {
    id: start.id,
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
    stream: false,
    responseHeaders: {},
    headersSent: false,
    attempts: [],
    notes: [],
  };
}
