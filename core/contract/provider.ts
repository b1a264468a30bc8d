/**
 * The contract of a provider plugin: it turns a backend's config (base URL, keys, deployment)
 * into calls. Providers speak one or more wire formats; the core picks the client's own format
 * when the backend speaks it (bytes pass through), otherwise the backend's first.
 */
import type { Readable } from "node:stream";
import type { RequestEnd } from "./request-end.js";

export interface UpstreamCall {
  /** The wire format of `body`; one of the provider's `formats`. */
  format: string;
  /** The backend's model name (after aliasing). */
  model: string;
  body: Record<string, unknown>;
  /**
   * The client's own bytes for `body`, set only when the request goes out exactly as the client
   * wrote it (same format, same model name, nothing changed by a step). A provider that would send
   * `JSON.stringify(body)` as is sends these instead: no second serialisation, and numbers keep
   * the precision the client gave them.
   */
  rawBody?: Buffer;
  stream: boolean;
  /**
   * Aborts when the client goes away or a timeout fires: the upstream request must stop at once.
   * undici takes it as a request's `signal` as it is; `end.signal` is an AbortSignal for other APIs.
   */
  end: RequestEnd;
  /** The gateway request id, for upstream correlation headers. */
  requestId: string;
  /** Headers the pipeline's steps add for this attempt (`Exchange.upstreamHeaders`); sent beside the provider's own, never over them. */
  headers?: Readonly<Record<string, string>>;
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

/**
 * One proxied HTTP request (routes of format `http`): the client's method, path and body go to
 * the backend as they came. Hop-by-hop headers are already gone and x-forwarded-* set; `host`
 * is still the client's, for providers that pass it on.
 */
export interface ForwardCall {
  method: string;
  /** The client's path with its query string (`/api/items?page=2`); the provider prefixes its base path. */
  path: string;
  headers: Record<string, string | string[]>;
  /**
   * The request body: a Buffer when the gateway holds it whole (small bodies, kept so a failed
   * attempt can be sent again), a stream read once with backpressure otherwise, or none.
   */
  body: Readable | Buffer | undefined;
  /** As on UpstreamCall. */
  end: RequestEnd;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  requestId: string;
}

/** The answer of a token count. */
export interface TokenCount {
  inputTokens: number;
}

/** One embedding call (routes with endpoint `embeddings`): one vector per input, in input order. */
export interface EmbeddingCall extends Pick<UpstreamCall, "model" | "end" | "requestId" | "headersTimeoutMs" | "bodyTimeoutMs"> {
  /** Texts, or token ids (OpenAI's token-array input); at most the provider's `maxEmbeddingBatch`. */
  inputs: Array<string | number[]>;
  /** The vector length asked for, for models that can shorten theirs. */
  dimensions?: number;
}

export interface EmbeddingResult {
  vectors: number[][];
  /** As the upstream counted them, or estimated from the input where it counts none. */
  inputTokens: number;
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
  /**
   * Proxies one HTTP request (only providers that can serve `http` routes). Resolves with any
   * status the upstream sent (a proxy passes 404s on); rejects with a GatewayError only when no
   * reply came: failure `connect` or `timeout`.
   */
  forward?(call: ForwardCall): Promise<UpstreamReply>;
  /**
   * Counts the input tokens of `call` without generating (routes with endpoint `count-tokens`;
   * only providers whose upstream can count, or estimate). `call.body` is a request in
   * `call.format`, as `send` would get it: the provider drops what its counting endpoint refuses.
   * Rejects like `send`.
   */
  countTokens?(call: UpstreamCall): Promise<TokenCount>;
  /** Embeds inputs (only providers whose upstream embeds). Rejects like `send`. */
  embed?(call: EmbeddingCall): Promise<EmbeddingResult>;
  /** Most inputs one `embed` call takes: larger batches are split by the caller. */
  readonly maxEmbeddingBatch?: number;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
