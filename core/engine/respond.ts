/**
 * Writing replies to the client. Every reply carries the exchange's response headers; errors are
 * rendered by the client's own format translator, so each SDK sees its own error shape.
 */
import type { ServerResponse } from "node:http";
import { GatewayError } from "../contract/errors.js";
import type { Answer, Exchange } from "../contract/exchange.js";

export function applyExchangeHeaders(x: Exchange, res: ServerResponse): void {
  for (const name in x.responseHeaders) res.setHeader(name, x.responseHeaders[name]!);
  if (x.backend !== undefined) res.setHeader("x-switchyard-backend", x.backend);
  if (x.attempts.length > 0) res.setHeader("x-switchyard-attempts", String(x.attempts.length));
}

export function writeJson(x: Exchange, res: ServerResponse, status: number, body: string | Buffer, extraHeaders?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  applyExchangeHeaders(x, res);
  if (extraHeaders) for (const name in extraHeaders) res.setHeader(name, extraHeaders[name]!);
  res.writeHead((x.status = status), { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  x.headersSent = true;
  x.ttfbMs ??= performance.now() - x.startedHr;
  x.reply?.push(body);
  res.end(body);
}

export function writeError(x: Exchange, res: ServerResponse, err: GatewayError): void {
  x.error = err;
  const rendered = x.format.renderError(err);
  const headers: Record<string, string> = { ...err.headers };
  if (err.retryAfterMs !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  writeJson(x, res, rendered.status, JSON.stringify(rendered.body), headers);
}

/** An Answer from a step (auth, validate, an endpoint): an error in the client's format, or the JSON it holds. */
export function writeAnswer(x: Exchange, res: ServerResponse, answer: Answer): void {
  if (answer instanceof GatewayError) return writeError(x, res, answer);
  writeJson(x, res, answer.status, JSON.stringify(answer.body), answer.headers);
}
