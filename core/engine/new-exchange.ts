/**
 * The one place an Exchange is made (by the server per request, by the testkit for plugin tests): every
 * exchange has the same fields in the same order, one object shape for V8 and no field a test forgot.
 * A class rather than a literal for `signal`: a getter in an object literal is defined anew for
 * each object (a runtime call per request), one on a prototype is not.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Exchange, RouteInfo } from "../contract/exchange.js";
import type { FormatTranslator, InboundRequestInfo } from "../contract/format.js";
import type { RequestEnd } from "../contract/request-end.js";

export type ExchangeStart = Pick<Exchange, "id" | "clientRequestId" | "pipelineId" | "route" | "format" | "headers" | "inbound" | "end">;

class RequestExchange implements Exchange {
  readonly id: string;
  readonly clientRequestId: string | undefined;
  readonly startedAt = Date.now();
  readonly startedHr = performance.now();
  readonly pipelineId: string;
  readonly route: RouteInfo;
  readonly format: FormatTranslator;
  readonly headers: IncomingHttpHeaders;
  readonly inbound: InboundRequestInfo;
  readonly end: RequestEnd;
  body: Record<string, unknown> = {};
  model: string | undefined = undefined;
  upstreamHeaders: Record<string, string> | undefined = undefined;
  stream = false;
  readonly responseHeaders: Record<string, string> = {};
  headersSent = false;
  readonly attempts: Exchange["attempts"] = [];
  readonly notes: string[] = [];

  constructor(start: ExchangeStart) {
    this.id = start.id;
    this.clientRequestId = start.clientRequestId;
    this.pipelineId = start.pipelineId;
    this.route = start.route;
    this.format = start.format;
    this.headers = start.headers;
    this.inbound = start.inbound;
    this.end = start.end;
  }

  /** Made on first read (most requests never need one): see RequestEnd. */
  get signal(): AbortSignal {
    return this.end.signal;
  }
}

export function newExchange(start: ExchangeStart): Exchange {
  return new RequestExchange(start);
}
