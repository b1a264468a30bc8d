/**
 * The intermediate representation every format meets in. N formats need N translators, not N²:
 * each translator maps its wire format to and from these types only.
 *
 * Conventions (chosen to match OpenAI's accounting, so cost has one rule):
 * - `IrUsage.inputTokens` counts *all* input, including cached-read and cache-write tokens;
 *   `outputTokens` counts all output, including reasoning tokens.
 * - System prompts are messages with role `system`, in order; formats that carry one top-level
 *   system prompt join them.
 * - Tool call arguments are JSON text, exactly as the model produced them.
 */

export type IrRole = "system" | "user" | "assistant" | "tool";

/** Anthropic-style prompt caching marker, kept so same-family backends can honour it. */
export interface IrCacheControl {
  type: "ephemeral";
  ttl?: string;
}

export interface IrTextPart {
  type: "text";
  text: string;
  cacheControl?: IrCacheControl;
}

export type IrImageSource = { kind: "url"; url: string } | { kind: "base64"; mediaType: string; data: string };

export interface IrImagePart {
  type: "image";
  source: IrImageSource;
  detail?: "auto" | "low" | "high";
  cacheControl?: IrCacheControl;
}

/** A document (PDF, plain text…) to read; a `file` source names one in the client's own provider's file store. */
export interface IrDocumentPart {
  type: "document";
  source: { kind: "base64"; mediaType: string; data: string } | { kind: "url"; url: string; mediaType?: string } | { kind: "text"; text: string } | { kind: "file"; fileId: string };
  /** File name or title, where the format carries one. */
  title?: string;
  cacheControl?: IrCacheControl;
}

/** Audio input, base64 (`mediaType` audio/wav, audio/mpeg…). */
export interface IrAudioPart {
  type: "audio";
  mediaType: string;
  data: string;
}

export interface IrToolCallPart {
  type: "tool_call";
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

export interface IrToolResultPart {
  type: "tool_result";
  toolCallId: string;
  /** The called tool's name; Gemini needs it, others ignore it. */
  name?: string;
  content: Array<IrTextPart | IrImagePart>;
  isError?: boolean;
  cacheControl?: IrCacheControl;
}

export interface IrThinkingPart {
  type: "thinking";
  text: string;
  /** Provider signature that lets the thinking be sent back on the next turn. */
  signature?: string;
  /** Opaque redacted thinking (Anthropic `redacted_thinking.data`). */
  redactedData?: string;
}

export type IrPart = IrTextPart | IrImagePart | IrDocumentPart | IrAudioPart | IrToolCallPart | IrToolResultPart | IrThinkingPart;

export interface IrMessage {
  role: IrRole;
  content: IrPart[];
  name?: string;
}

export interface IrTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
  strict?: boolean;
  cacheControl?: IrCacheControl;
}

export type IrToolChoice = { type: "auto" } | { type: "none" } | { type: "required" } | { type: "tool"; name: string };

export type IrResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

export interface IrReasoning {
  effort?: "minimal" | "low" | "medium" | "high";
  /** Thinking budget in tokens (Anthropic `budget_tokens`, Gemini `thinkingBudget`); 0 asks for no thinking. */
  budgetTokens?: number;
  /** Ask for thinking/reasoning text or summaries back, where the backend can give them. */
  includeThoughts?: boolean;
}

export interface IrRequest {
  model: string;
  messages: IrMessage[];
  stream: boolean;
  /** The client asked for usage as a stream event of its own (OpenAI `stream_options.include_usage`). */
  streamUsage?: boolean;
  tools?: IrTool[];
  toolChoice?: IrToolChoice;
  parallelToolCalls?: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Number of choices; only 1 is carried across formats. */
  n?: number;
  responseFormat?: IrResponseFormat;
  reasoning?: IrReasoning;
  user?: string;
  /** Log probabilities of the output tokens asked for, with this many alternatives per token (0: none). */
  topLogprobs?: number;
  metadata?: Record<string, string>;
  /**
   * Fields of the source format the IR has no place for, by their wire name. A translator to the
   * same family may carry them; any other drops them by the translate step's policy.
   */
  extra?: Record<string, unknown>;
}

export type IrFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "error" | "other";

export interface IrUsage {
  inputTokens: number;
  outputTokens: number;
  cachedReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

/** One output token's log probability, with the likeliest alternatives when asked for. */
export interface IrTokenLogprob {
  token: string;
  logprob: number;
  top?: Array<{ token: string; logprob: number }>;
}

export interface IrResponse {
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
  /** Assistant output: text, tool calls and thinking, in order. */
  content: IrPart[];
  finishReason: IrFinishReason;
  /** The stop sequence that ended generation, when the backend says which. */
  stopSequence?: string;
  usage?: IrUsage;
  logprobs?: IrTokenLogprob[];
}

/** Stream events; a stream is `start`, any deltas, then `usage` and `finish` in either order. */
export type IrStreamEvent =
  | { type: "start"; id: string; model: string; created?: number }
  | { type: "text"; text: string }
  | { type: "thinking"; text: string; signature?: string }
  /** One piece of a tool call; `index` orders parallel calls; `id`/`name` arrive on the first piece. */
  | { type: "tool_call"; index: number; id?: string; name?: string; argumentsDelta: string }
  | { type: "logprobs"; logprobs: IrTokenLogprob[] }
  | { type: "usage"; usage: IrUsage }
  | { type: "finish"; finishReason: IrFinishReason; stopSequence?: string };
