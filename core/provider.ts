/**
 * The contract of a provider plugin: it turns a backend's config (base URL, keys, deployment)
 * into calls. Providers speak one or more wire formats; the core picks the client's own format
 * when the backend speaks it (bytes pass through), otherwise the backend's first.
 */
import type { Readable } from "node:stream";

export interface UpstreamCall {
  /** The wire format of `body`; one of the provider's `formats`. */
  format: string;
  /** The backend's model name (after aliasing). */
  model: string;
  body: Record<string, unknown>;
  stream: boolean;
  /** Aborted when the client goes away or a timeout fires: the upstream request must stop at once. */
  signal: AbortSignal;
  /** The gateway request id, for upstream correlation headers. */
  requestId: string;
  /** Milliseconds the upstream may take to send its response headers. */
  headersTimeoutMs: number;
  /** Milliseconds allowed between two body chunks. */
  bodyTimeoutMs: number;
}

export interface UpstreamReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The response body as it arrives; the caller consumes or destroys it. */
  body: Readable;
}

export interface Provider {
  /** Wire formats this backend speaks, preferred first. */
  readonly formats: readonly string[];
  /**
   * Sends one call. Resolves with a 2xx reply once headers arrived; rejects with a GatewayError
   * (failure `connect`, `timeout` or `status`, with `retryAfterMs` when the upstream said so)
   * otherwise, having read and released the error body.
   */
  send(call: UpstreamCall): Promise<UpstreamReply>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
