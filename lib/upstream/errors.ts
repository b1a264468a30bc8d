/**
 * How an upstream's failure becomes a GatewayError. Every provider plugin (and provider-mock,
 * which must fail exactly like a real upstream) goes through these functions, so the attempt
 * loop's fallback rules (`connect`, `timeout`, 429, `5xx`) see one classification whatever the
 * backend, and no upstream secret or address reaches a client.
 */
import { GatewayError, isObject, redactSecrets, type GatewayErrorType } from "../../core/index.js";

/** Response headers as undici (and node:http) hand them over. */
type UpstreamHeaders = Record<string, string | string[] | undefined>;

interface UpstreamStatusErrorInit {
  /** The upstream's HTTP status (any non-2xx). */
  status: number;
  /** The upstream's own message, already scrubbed; a generic one is used when absent. */
  message?: string;
  /** The upstream's own error code (`model_not_found`…), when it gave a usable one. */
  code?: string;
  param?: string;
  retryAfterMs?: number;
  source: string;
}

function gatewayStatusFor(upstream: number): { status: number; type: GatewayErrorType } {
  switch (upstream) {
    case 400:
    case 422:
      return { status: 400, type: "invalid_request" };
    case 401:
      return { status: 401, type: "authentication" };
    case 403:
      return { status: 403, type: "permission" };
    case 404:
      return { status: 404, type: "not_found" };
    case 408:
      return { status: 504, type: "timeout" };
    case 413:
      return { status: 413, type: "payload_too_large" };
    case 429:
      return { status: 429, type: "rate_limit" };
    case 503:
    case 529: // Anthropic's "overloaded"
      return { status: 503, type: "unavailable" };
  }
  // Other 4xx (409, 451…) are still the request's fault: keep the status the upstream chose.
  if (upstream >= 400 && upstream < 500) return { status: upstream, type: "invalid_request" };
  // 5xx, and 1xx/3xx a gateway cannot relay (undici does not follow redirects).
  return { status: 502, type: "upstream_error" };
}

/** The GatewayError for a non-2xx upstream reply (failure `status`). */
export function upstreamStatusError(init: UpstreamStatusErrorInit): GatewayError {
  const { status, type } = gatewayStatusFor(init.status);
  return new GatewayError({
    status,
    type,
    code: init.code ?? `upstream_http_${init.status}`,
    message: init.message ?? `the upstream replied with HTTP ${init.status}`,
    param: init.param,
    failure: "status",
    upstreamStatus: init.status,
    retryAfterMs: init.retryAfterMs,
    source: init.source,
  });
}

/**
 * The upstream could not be reached or dropped the connection before replying (refused, reset,
 * DNS, TLS). `reason` is a short safe word such as the socket error code, never an address.
 */
export function upstreamConnectError(source: string, reason: string, cause?: unknown): GatewayError {
  return new GatewayError({
    status: 502,
    type: "upstream_error",
    code: "upstream_connect_failed",
    message: `could not get a reply from the upstream (${reason})`,
    failure: "connect",
    source,
    cause,
  });
}

type UpstreamTimeoutPhase = "connect" | "headers";

/** The upstream took too long to accept the connection or to send headers (a quiet body is GatewayError.upstreamIdleTimeout). */
export function upstreamTimeoutError(source: string, phase: UpstreamTimeoutPhase, cause?: unknown): GatewayError {
  const what = phase === "connect" ? "accept the connection" : "send response headers";
  return new GatewayError({
    status: 504,
    type: "timeout",
    code: `upstream_${phase}_timeout`,
    message: `the upstream did not ${what} in time`,
    failure: "timeout",
    source,
    cause,
  });
}

function firstHeader(headers: UpstreamHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Milliseconds the upstream asked us to wait: `retry-after-ms` (OpenAI, exact) wins over
 * `retry-after` (seconds, possibly fractional, or an HTTP date).
 */
export function parseRetryAfter(headers: UpstreamHeaders, nowMs = Date.now()): number | undefined {
  const ms = firstHeader(headers, "retry-after-ms")?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const ra = firstHeader(headers, "retry-after")?.trim();
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.ceil(Number(ra) * 1000);
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

// Key-shaped tokens an upstream may echo back ("Incorrect API key provided: sk-proj-ab***yz").
const KEY_SHAPES = [/\bsk-[A-Za-z0-9_\-*.]{6,}/g, /\bAIza[0-9A-Za-z_\-*]{10,}/g, /\bBearer\s+[^\s"',]+/gi];
const MAX_MESSAGE = 1000;

/**
 * Makes an upstream's text safe to show: registered secrets, the backend's own secrets and
 * host, and anything shaped like an API key are replaced.
 */
export function scrubUpstreamText(text: string, secrets: readonly string[] = []): string {
  let out = redactSecrets(text);
  for (const s of secrets) if (s.length >= 4 && out.includes(s)) out = out.split(s).join("[redacted]");
  for (const shape of KEY_SHAPES) out = out.replace(shape, "[redacted]");
  out = out.trim();
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}

interface UpstreamErrorDetail {
  message?: string;
  code?: string;
  param?: string;
  /** The wait the body asked for: Gemini's `google.rpc.RetryInfo` detail (`retryDelay: "7s"`). */
  retryAfterMs?: number;
}

/** Google's RetryInfo among an error's `details`, as milliseconds (a protobuf Duration: "7s", "0.5s"). */
function retryInfoMs(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    if (!isObject(detail) || typeof detail["@type"] !== "string" || !detail["@type"].endsWith("google.rpc.RetryInfo")) continue;
    const delay = typeof detail.retryDelay === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay.trim()) : null;
    if (delay !== null) return Math.round(Number(delay[1]) * 1000);
  }
  return undefined;
}

const SAFE_CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const SAFE_PARAM = /^[A-Za-z0-9_.[\]-]{1,128}$/;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/**
 * A short identifier from an upstream error (`code`, `type`, `status`, `param`) when it is safe to
 * show: of the expected shape and untouched by scrubbing. An upstream that echoes the key in such
 * a field ("code": "sk-…", or the backend's own key) loses the field rather than showing it
 * redacted, since an identifier that was a secret carries no meaning for the client.
 */
function safeIdentifier(v: unknown, shape: RegExp, secrets: readonly string[]): string | undefined {
  const s = str(v);
  return s !== undefined && shape.test(s) && scrubUpstreamText(s, secrets) === s ? s : undefined;
}

/** An upstream's error code (or `type`, or `status`) as a safe identifier; undefined when not usable. */
export function safeUpstreamCode(v: unknown, secrets: readonly string[] = []): string | undefined {
  return safeIdentifier(v, SAFE_CODE, secrets);
}

/**
 * The fields of an error object an upstream sent inside a reply (a mid-stream error event, a 200
 * body carrying an error), scrubbed as readUpstreamErrorDetail scrubs an error body: the format
 * plugins' decoders and passthrough observers build their GatewayError from these only.
 */
export function scrubbedUpstreamErrorFields(error: unknown, secrets: readonly string[] = []): { message: string | undefined; code: string | undefined; type: string | undefined; status: string | undefined; param: string | undefined } {
  const obj = isObject(error) ? error : {};
  const message = str(obj.message);
  return {
    message: message === undefined ? undefined : scrubUpstreamText(message, secrets),
    code: safeUpstreamCode(obj.code, secrets),
    type: safeUpstreamCode(obj.type, secrets),
    status: safeUpstreamCode(obj.status, secrets),
    param: safeIdentifier(obj.param, SAFE_PARAM, secrets),
  };
}

/**
 * Message, code and param from an upstream error body, whatever its family: OpenAI
 * `{error:{message,code,type,param}}`, Anthropic `{type:"error",error:{type,message}}`, Gemini
 * `{error:{code,message,status}}` (also wrapped in an array), vLLM/FastAPI `{message}` /
 * `{detail}`, Ollama `{error:"…"}`, or plain text. Every field is scrubbed; HTML is ignored.
 */
export function readUpstreamErrorDetail(text: string, contentType: string | undefined, secrets: readonly string[] = []): UpstreamErrorDetail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const plain = text.trim();
    if (plain.length === 0 || /html/i.test(contentType ?? "") || plain.startsWith("<")) return {};
    return { message: scrubUpstreamText(plain, secrets) };
  }
  if (Array.isArray(parsed)) parsed = parsed[0];
  if (!isObject(parsed)) return {};
  const root = parsed;
  const inner = isObject(root.error) ? root.error : root;
  const message = str(inner.message) ?? str(root.error) ?? str(root.message) ?? str(root.detail);
  // The first of code, type and status the upstream gave; when it is not safe to show it is
  // dropped, not replaced by the next, which would only be a guess at what it meant.
  const rawCode = [inner.code, inner.type, inner.status].find((v) => str(v) !== undefined);
  const code = safeUpstreamCode(rawCode, secrets);
  const retryAfterMs = retryInfoMs(inner.details);
  return {
    message: message === undefined ? undefined : scrubUpstreamText(message, secrets),
    code: code && code !== "error" ? code.toLowerCase() : undefined,
    param: safeIdentifier(inner.param, SAFE_PARAM, secrets),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/**
 * The failure an upstream's SSE error event stands for on a passed-through stream, which is never
 * relayed as it came (its fields may carry the upstream's key or address): its error object
 * (`{"error":{…}}` or bare) made into the format's own error by `fromObject`, or `malformed` when
 * its data is not JSON.
 */
export function errorEventFailure(data: string, fromObject: (error: unknown) => GatewayError, malformed: () => GatewayError): GatewayError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return malformed();
  }
  return fromObject(isObject(parsed) && isObject(parsed.error) ? parsed.error : parsed);
}

/**
 * A body or stream an upstream sent that is not its format (a format plugin's decoder could not
 * read it): a 502 attempt failure, `stream` marking a stream that broke after it began. The
 * detail names what the upstream sent (an event type, a field): scrubbed like its own text.
 */
export function malformedUpstreamError(source: string, message: string, stream: boolean): GatewayError {
  return new GatewayError({
    status: 502,
    type: "upstream_error",
    code: stream ? "bad_upstream_stream" : "bad_upstream_response",
    message: scrubUpstreamText(`upstream sent an invalid ${stream ? "stream" : "response"}: ${message}`),
    source,
    ...(stream ? { failure: "stream" as const } : {}),
  });
}
