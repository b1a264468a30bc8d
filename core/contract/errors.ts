/**
 * GatewayError: the one error type that crosses the pipeline. It carries what every client
 * format needs to render it (status, a stable type and code, a message safe to show) and what
 * the attempt loop needs to route on it (which failure it was, whether trying elsewhere helps).
 * Translators turn it into the client's own error shape; nothing else writes error bodies.
 */

/** Stable error categories; each format maps these to its own names (OpenAI `type`, Anthropic `error.type`, Gemini `status`). */
export type GatewayErrorType =
  | "invalid_request" | "authentication" | "permission" | "not_found" | "payload_too_large" | "rate_limit"
  | "budget_exceeded" | "upstream_error" | "timeout" | "unavailable" | "internal";

/** What went wrong on an attempt, as the fallback rules name it (`on: ["connect", "timeout", 429, "5xx"]`). */
export type AttemptFailure = "connect" | "timeout" | "status" | "stream";

export interface GatewayErrorInit {
  status: number;
  type: GatewayErrorType;
  /** Stable machine-readable code, e.g. `invalid_api_key`, `model_not_found`, `body_too_large`. */
  code: string;
  /** Safe to show to the client: never a secret, never an internal address. */
  message: string;
  /** The offending request field, when there is one (OpenAI's `param`). */
  param?: string;
  /** Set on upstream failures: which kind, for the attempt loop's fallback rules. */
  failure?: AttemptFailure;
  /** The upstream's HTTP status, when the error came from one. */
  upstreamStatus?: number;
  /** From `retry-after` / `retry-after-ms`, or a limiter's own window. */
  retryAfterMs?: number;
  /** Extra response headers the client should see (e.g. `x-ratelimit-*`). */
  headers?: Record<string, string>;
  /** The plugin or core part that raised it, for logs and records. */
  source?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  // `declare`d, not initialised: the constructor copies them from the init in one go.
  declare readonly status: number;
  declare readonly type: GatewayErrorType;
  declare readonly code: string;
  declare readonly param?: string;
  declare readonly failure?: AttemptFailure;
  declare readonly upstreamStatus?: number;
  declare readonly retryAfterMs?: number;
  declare readonly headers?: Record<string, string>;
  declare readonly source?: string;

  constructor({ message, cause, ...fields }: GatewayErrorInit) {
    super(message, cause === undefined ? undefined : { cause });
    Object.assign(this, { name: "GatewayError", param: undefined, failure: undefined, upstreamStatus: undefined, retryAfterMs: undefined, headers: undefined, source: undefined }, fields);
  }

  static invalidRequest(message: string, param?: string, code = "invalid_request"): GatewayError {
    return new GatewayError({ status: 400, type: "invalid_request", code, message, param });
  }

  /** The client closed the connection (nginx's 499): nothing more is written. */
  static clientClosed(): GatewayError {
    return new GatewayError({ status: 499, type: "invalid_request", code: "client_closed_request", message: "the client closed the connection" });
  }

  /** The request's whole time budget (`timeouts.totalMs`) ran out. */
  static totalTimeout(totalMs: number): GatewayError {
    // failure "timeout": health tracking counts an attempt the budget cut short as a timeout, not a success.
    return new GatewayError({ status: 504, type: "timeout", code: "request_timeout", message: `the request took longer than ${totalMs} ms`, failure: "timeout" });
  }

  /** No backend of the pipeline serves the model a request names. */
  static modelNotFound(model: string): GatewayError {
    return new GatewayError({ status: 404, type: "not_found", code: "model_not_found", message: `no backend of this pipeline serves model "${model}"`, param: "model" });
  }

  /** The request body is larger than `limits.maxBodyBytes` (the body is not read further). */
  static bodyTooLarge(limit: number): GatewayError {
    // The rest of the body is not worth reading just to keep the connection.
    return new GatewayError({ status: 413, type: "payload_too_large", code: "body_too_large", message: `request body exceeds ${limit} bytes`, headers: { connection: "close" } });
  }

  /** The upstream went quiet between two chunks of its reply for longer than the idle timeout. */
  static upstreamIdleTimeout(source?: string, cause?: unknown): GatewayError {
    return new GatewayError({ status: 504, type: "timeout", code: "upstream_idle_timeout", message: "the upstream stopped sending before its reply finished", failure: "timeout", source, cause });
  }

  /**
   * An upstream body that broke off after its headers, plain or streamed: silent past the idle
   * timeout (undici's body timeout), or failed. Nothing reached the client yet when it happens
   * before the first chunk, so the attempt loop may still fall back on it.
   */
  static upstreamBodyBroke(err: unknown, source?: string): GatewayError {
    if (err instanceof GatewayError) return err;
    if ((err as { code?: unknown } | undefined)?.code === "UND_ERR_BODY_TIMEOUT") return GatewayError.upstreamIdleTimeout(source, err);
    return new GatewayError({ status: 502, type: "upstream_error", code: "upstream_body_failed", message: "the upstream broke off its reply before it finished", failure: "stream", source, cause: err });
  }

  static internal(source: string, cause: unknown): GatewayError {
    return new GatewayError({ status: 500, type: "internal", code: "internal_error", message: "internal gateway error", source, cause });
  }
}

/** Any thrown value as a GatewayError; unknown errors become a 500 that reveals nothing of their text. */
export function asGatewayError(err: unknown, source: string): GatewayError {
  return err instanceof GatewayError ? err : GatewayError.internal(source, err);
}
