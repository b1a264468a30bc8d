/**
 * The contract of a format translator plugin (`openai-chat`, `anthropic-messages`, `gemini`,
 * `openai-responses`…). One translator serves both sides of the gateway:
 * - inbound, when clients speak the format: read requests, write responses, streams and errors;
 * - outbound, when a backend speaks it: write requests, read responses and streams.
 * All stream work is synchronous and push-based: no promise and no array per chunk.
 */
import type { GatewayError } from "./errors.js";
import type { IrRequest, IrResponse, IrStreamEvent, IrUsage } from "./ir.js";
import type { TokenCount } from "./provider.js";

/** What a translator may see of the inbound HTTP request besides its body. */
export interface InboundRequestInfo {
  path: string;
  /** Route parameters, e.g. `{ target }` from `/v1beta/models/:target` (`gemini-2.0-flash:generateContent`). */
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | string[] | undefined>>;
  /** The route's endpoint kind (`generate`, `embeddings`…): a format whose paths name a method checks it against the kind. */
  endpoint?: string;
}

/** One server-sent event as parsed from an upstream stream. */
export interface SseEvent {
  /** The `event:` field, when the stream names its events (Anthropic, OpenAI Responses). */
  event?: string;
  data: string;
}

/** Writes SSE text toward the client (or, for provider-mock, toward the gateway). */
export type SseTextSink = (text: string) => void;

export interface StreamEncoder {
  push(event: IrStreamEvent): void;
  /** Ends a successful stream (`data: [DONE]`, `message_stop`…). */
  end(): void;
  /** Ends the stream with the format's error event, after which nothing more is written. */
  error(err: GatewayError): void;
}

export interface StreamDecoder {
  push(event: SseEvent): void;
  /** The upstream closed; emit any events still buffered. */
  end(): void;
  /** The stream's finish reason as the format writes it (see `finishReasonOf`), once it came. */
  readonly finishReason?: string;
}

/** Reads usage from a stream passed through to a client of the same format. */
export interface StreamObserver {
  /**
   * Sees every event; returns false to keep one from the client (OpenAI's usage chunk it did not ask
   * for); throws a GatewayError to end the stream with the format's own error event in its place.
   */
  push(event: SseEvent): boolean | void;
  /**
   * True when `push` may drop events: the relay then writes events re-framed instead of the raw
   * bytes. False keeps the byte-for-byte fast path.
   */
  readonly filters: boolean;
  readonly usage: IrUsage | undefined;
  /** The stream's finish reason as the format writes it (see `finishReasonOf`), once it came. */
  readonly finishReason?: string;
  /** Optional: offsets in `chunk` (whole events) inside the only events `push` may need (read, or drop by returning false); a passed-through stream parses just those. */
  eventsWanted?(chunk: Buffer): readonly number[];
}

export interface RenderedError {
  status: number;
  body: unknown;
}

/** A model listing entry for `GET /v1/models`-style endpoints. */
export interface ModelInfo {
  id: string;
  ownedBy: string;
}

export interface ReplyFacts {
  readonly usage: IrUsage | undefined;
  readonly finishReason: string | undefined;
}

export interface FormatTranslator {
  /** The format's key, as routes and providers name it. */
  readonly format: string;

  // ---- inbound: clients speak this format ----
  /** Cheap peek used before any translation: the requested model and whether the client wants a stream. */
  peek(body: unknown, info: InboundRequestInfo): { model: string | undefined; stream: boolean };
  /** Wire request -> IR. Throws GatewayError (400, naming the field) on a malformed request. */
  requestToIr(body: unknown, info: InboundRequestInfo): IrRequest;
  /** IR response -> wire response body. */
  responseFromIr(response: IrResponse, request: IrRequest): unknown;
  /** IR stream events -> SSE text in this format. */
  createStreamEncoder(request: IrRequest, write: SseTextSink): StreamEncoder;
  /** The format's error body and status for a GatewayError. */
  renderError(err: GatewayError): RenderedError;
  /** A model listing in this format's shape (only formats with a listing endpoint). */
  renderModels?(models: ModelInfo[]): unknown;
  /** A token count in this format's shape (only formats with a counting endpoint, like Anthropic's count_tokens). */
  renderTokenCount?(count: TokenCount): unknown;

  // ---- outbound: a backend speaks this format ----
  /** IR -> wire request body for a backend, with `model` set to the backend's model name. */
  requestFromIr(request: IrRequest): Record<string, unknown>;
  /**
   * The IR fields set on `request` that requestFromIr cannot carry exactly to this format (dropped
   * or approximated), as dotted IR paths: `topK`, `reasoning.budgetTokens`, `messages.thinking`.
   * The translate step drops and notes them, or rejects them under a strict policy. `extra` is the
   * translate step's own concern and is not listed.
   */
  unsupportedFields?(request: IrRequest): string[];
  /** Wire response body -> IR. Throws GatewayError (502) on a body that is not this format. */
  responseToIr(body: unknown): IrResponse;
  /** Wire stream events -> IR stream events, pushed to `emit` as they complete. */
  createStreamDecoder(emit: (event: IrStreamEvent) => void): StreamDecoder;

  // ---- same format on both sides: bytes pass through untouched ----
  /**
   * The client's own body, adjusted for the backend: model renamed, and for streams whatever the
   * format needs to report usage (OpenAI's `stream_options.include_usage`). Must not mutate `body`.
   * Returns undefined when the body needs no change: the core then sends the client's own bytes.
   */
  preparePassthrough(body: Record<string, unknown>, upstreamModel: string, stream: boolean): Record<string, unknown> | undefined;
  /** Usage from a non-streamed wire response body. */
  usageOf(body: unknown): IrUsage | undefined;
  /** Why a wire response body's answer ended, as the format writes it (`stop`, `end_turn`, `STOP`…), for records, metrics and traces. */
  finishReasonOf?(body: unknown): string | undefined;
  /** usageOf and finishReasonOf read from a reply's bytes more cheaply than a full parse (lib/wire/reply-skeleton.ts); undefined unless the bytes are JSON, or when unsure. */
  replyFacts?(raw: Buffer): ReplyFacts | undefined;
  /** Watches a passed-through stream for its usage; cheaper than a full decoder. `clientBody` is the client's own request. */
  createStreamObserver(clientBody: Record<string, unknown>): StreamObserver;
}
