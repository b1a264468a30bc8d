/**
 * The HTTP side every network provider shares: one undici Pool per backend origin, created once
 * and kept alive, and the one place where undici's errors become GatewayErrors. A provider only
 * decides the path, the headers and the JSON body; this sends them with the call's signal and
 * timeouts and hands back a 2xx reply, or reads (bounded) and releases the error body.
 */
import { Pool, type Dispatcher } from "undici";
import { GatewayError, readBody, type ForwardCall, type UpstreamCall, type UpstreamReply } from "../../core/index.js";
import { parseRetryAfter, readUpstreamErrorDetail, upstreamConnectError, upstreamStatusError, upstreamTimeoutError } from "./errors.js";

interface UpstreamPoolOptions {
  /** The backend's base URL: its origin gets the pool, its path prefixes every request path. */
  baseUrl: string;
  /** The provider's name, as error source. */
  source: string;
  /** Most sockets open to the origin at once; undefined = no limit. */
  connections?: number;
  /** Idle time before a kept-alive socket is closed (the server's keep-alive hint wins when shorter). */
  keepAliveTimeoutMs?: number;
  /** Upper bound for the server's keep-alive hint. */
  keepAliveMaxTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Headers for every request (auth, API version, the config's static headers), checked here once.
   * The pool itself sets content-type, accept (by `call.stream`), x-request-id and a default user-agent.
   */
  headers?: Record<string, string>;
  /** Values to scrub from upstream error messages besides registered secrets: the backend's keys. */
  secrets?: readonly string[];
  /** Most bytes of an error body read to find its message; the rest is discarded. */
  errorBodyLimit?: number;
}

export interface UpstreamRequest {
  /** Path below the base URL's own path, with any query: `/chat/completions`. */
  path: string;
  /** Headers for this request only, over the static ones (the pool's own still win). */
  headers?: Record<string, string>;
  /** The JSON body, serialized once by the provider (or the client's own bytes). */
  body: string | Buffer;
}

const DEFAULT_ERROR_BODY_LIMIT = 64 * 1024;

// Set by the pool or by HTTP itself: a config that tried to set them would break the exchange.
const RESERVED_HEADERS = new Set(["host", "content-length", "content-type", "accept", "x-request-id", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect"]);

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
]);

/** Checks a base URL once, at create(): a config mistake is a load error, not a request error. */
function parseBaseUrl(baseUrl: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw configError(source, "baseUrl is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw configError(source, "baseUrl must use http or https");
  if (url.search || url.hash) throw configError(source, "baseUrl must not carry a query or fragment");
  if (url.username || url.password) throw configError(source, "baseUrl must not carry credentials; use apiKey");
  return url;
}

/** Lower-cased static headers; a reserved name or a value HTTP cannot carry is a load error. */
function checkHeaders(headers: Record<string, string>, source: string): Record<string, string> {
  const out: Record<string, string> = { "user-agent": "switchyard" };
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (RESERVED_HEADERS.has(key)) throw configError(source, `header "${key}" is set by the gateway and cannot be configured`);
    if (/[\r\n\0]/.test(value)) throw configError(source, `header "${key}" has a line break or NUL in its value`);
    out[key] = value;
  }
  return out;
}

function configError(source: string, message: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", message: `${source}: ${message}`, source });
}

export class UpstreamPool {
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly source: string;
  private readonly secrets: string[];
  private readonly errorBodyLimit: number;
  private readonly headers: Record<string, string>;
  private closing: Promise<void> | undefined;

  constructor(options: UpstreamPoolOptions) {
    const url = parseBaseUrl(options.baseUrl, options.source);
    this.prefix = url.pathname.replace(/\/+$/, "");
    this.source = options.source;
    this.headers = checkHeaders(options.headers ?? {}, options.source);
    // The backend's host is an internal address for self-hosted servers: never echo it back.
    this.secrets = [...(options.secrets ?? []), url.host, url.hostname];
    this.errorBodyLimit = options.errorBodyLimit ?? DEFAULT_ERROR_BODY_LIMIT;
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? null,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      keepAliveMaxTimeout: options.keepAliveMaxTimeoutMs,
      connect: options.connectTimeoutMs === undefined ? undefined : { timeout: options.connectTimeoutMs },
    });
  }

  async send(request: UpstreamRequest, call: UpstreamCall): Promise<UpstreamReply> {
    let res: Awaited<ReturnType<Pool["request"]>>;
    try {
      res = await this.pool.request({
        method: "POST",
        path: this.prefix + request.path,
        headers: { ...call.headers, ...this.headers, ...request.headers, "content-type": "application/json", accept: call.stream ? "text/event-stream" : "application/json", "x-request-id": call.requestId },
        body: request.body,
        signal: call.end, // undici takes the EventEmitter as it is: no AbortSignal made for a request
        headersTimeout: call.headersTimeoutMs,
        bodyTimeout: call.bodyTimeoutMs,
      });
    } catch (err) {
      throw this.transportError(err, call);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, headers: res.headers, body: res.body };

    const retryAfterMs = parseRetryAfter(res.headers);
    const contentType = res.headers["content-type"];
    // At most errorBodyLimit bytes, then the body is released; one that fails mid-read still leaves us the status line.
    const text = (await readBody(res.body, { maxBytes: this.errorBodyLimit, overLimit: "truncate" }).catch(() => Buffer.alloc(0))).toString("utf8");
    // The caller aborted while we read the error body: it knows, and wants its own reason back.
    if (call.end.aborted) throw call.end.reason;
    const detail = readUpstreamErrorDetail(text, Array.isArray(contentType) ? contentType[0] : contentType, this.secrets);
    // A retry-after header wins; Gemini says it in the body (RetryInfo) and often nowhere else.
    throw upstreamStatusError({ status: res.statusCode, ...detail, retryAfterMs: retryAfterMs ?? detail.retryAfterMs, source: this.source });
  }

  /** Lets in-flight requests finish, then closes every socket. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.pool.close();
    return this.closing;
  }

  private transportError(err: unknown, call: Pick<UpstreamCall, "end">): unknown {
    if (call.end.aborted) return call.end.reason ?? err;
    // A request body that failed with a reason of its own (a forwarded body past its limit).
    if (err instanceof GatewayError) return err;
    const code = errorCode(err);
    switch (code) {
      case "UND_ERR_CONNECT_TIMEOUT":
      case "ETIMEDOUT":
        return upstreamTimeoutError(this.source, "connect", err);
      case "UND_ERR_HEADERS_TIMEOUT":
        return upstreamTimeoutError(this.source, "headers", err);
      case "UND_ERR_BODY_TIMEOUT":
        return GatewayError.upstreamIdleTimeout(this.source, err);
      case "UND_ERR_INVALID_ARG":
        // A header value from config that HTTP cannot carry: our fault, not the upstream's.
        return GatewayError.internal(this.source, err);
    }
    if (code !== undefined && (CONNECT_CODES.has(code) || code.startsWith("ERR_TLS") || code.includes("CERT"))) {
      return upstreamConnectError(this.source, code, err);
    }
    // Parser errors and the like: the upstream said something that is not HTTP.
    return upstreamConnectError(this.source, code ?? "protocol error", err);
  }

  /**
   * Proxies one request as the caller built it: any method, its headers and body. Whatever
   * status the upstream answers comes back as a reply for the caller to pass on or discard;
   * only a missing reply (connect, timeout) is an error. `host` in the headers replaces the
   * origin's own. `headers`: the call's, as the provider settled them.
   */
  async forward(call: ForwardCall, headers: ForwardCall["headers"] = call.headers): Promise<UpstreamReply> {
    try {
      const res = await this.pool.request({
        method: call.method as Dispatcher.HttpMethod,
        path: this.prefix + call.path,
        headers,
        body: call.body ?? null,
        signal: call.end,
        headersTimeout: call.headersTimeoutMs,
        bodyTimeout: call.bodyTimeoutMs,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      throw this.transportError(err, call);
    }
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Happy-eyeballs connects fail with an AggregateError whose parts carry the codes.
  const parts = (err as { errors?: unknown }).errors;
  return Array.isArray(parts) ? errorCode(parts[0]) : undefined;
}
