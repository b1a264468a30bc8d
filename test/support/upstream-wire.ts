/**
 * What each upstream format sends for one scripted reply: plain bodies, SSE streams and error
 * bodies, written by hand in the shapes the real APIs use (modelled on the captures under
 * test/fixtures/<format>/), never by the gateway's own translators, so a test that reads them
 * through the gateway checks the translators against the wire and not against themselves.
 */

export type UpstreamFormat = "openai-chat" | "openai-responses" | "anthropic-messages" | "gemini";

export interface ScriptedToolCall {
  /** The call id the upstream assigns (Gemini sends none: the gateway numbers them call_0, call_1…). */
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** Token counts in the IR's convention: `input` includes `cached`. Each format writes its own accounting. */
export interface ScriptedUsage {
  input: number;
  output: number;
  cached?: number;
}

export interface ScriptedReply {
  /** Assistant text; none when the reply is only tool calls. */
  text?: string;
  toolCalls?: ScriptedToolCall[];
  /** The model stopped at the output token limit. */
  truncated?: boolean;
  /** Reasoning ahead of the answer, with the signature the API gives it (none in Chat Completions). */
  thinking?: { text: string; signature: string };
  /** Answer the text's token logprobs, with this many alternatives each (set when the request asks). */
  logprobs?: { top: number };
  usage: ScriptedUsage;
}

/** The reply's text as the tokens a stream delivers (3 pieces), each with a made-up logprob and `top` alternatives. */
export function scriptedTokens(reply: ScriptedReply): { token: string; logprob: number; top: { token: string; logprob: number }[] }[] {
  const top = reply.logprobs?.top ?? 0;
  return pieces(reply.text ?? "", 3).map((token, i) => {
    const logprob = -0.1 * (i + 1);
    return { token, logprob, top: Array.from({ length: top }, (_, k) => ({ token: k === 0 ? token : `${token}~${k}`, logprob: logprob - k })) };
  });
}

const openAiTokens = (tokens: ReturnType<typeof scriptedTokens>) =>
  tokens.map((t) => ({ token: t.token, logprob: t.logprob, bytes: [...Buffer.from(t.token)], top_logprobs: t.top.map((a) => ({ token: a.token, logprob: a.logprob, bytes: [...Buffer.from(a.token)] })) }));
const geminiTokens = (tokens: ReturnType<typeof scriptedTokens>) => ({
  topCandidates: tokens.map((t) => ({ candidates: t.top.map((a) => ({ token: a.token, logProbability: a.logprob })) })),
  chosenCandidates: tokens.map((t) => ({ token: t.token, logProbability: t.logprob })),
});

export interface ScriptedError {
  status: number;
  message: string;
  /** Seconds, sent as `retry-after` (and, for Gemini, as RetryInfo in the body too). */
  retryAfter?: number;
  /** Gemini only: say the wait in the body's RetryInfo alone, with no retry-after header (as Google often does). */
  retryInfoOnly?: boolean;
}

/** A finished SSE body as the chunks the upstream writes, one event each. */
export type SseChunks = string[];

const sse = (data: unknown, event?: string): string => `${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;

/** Cuts text into `n` near-equal pieces, as upstreams deliver deltas. */
export function pieces(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let at = 0; at < text.length; at += size) out.push(text.slice(at, at + size));
  return out;
}

const args = (call: ScriptedToolCall): string => JSON.stringify(call.arguments);

// ---------------------------------------------------------------- OpenAI Chat Completions

export function chatBody(reply: ScriptedReply, model: string, id: string, created: number): unknown {
  const calls = reply.toolCalls ?? [];
  return {
    id,
    object: "chat.completion",
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: reply.text ?? null,
          ...(reply.thinking === undefined ? {} : { reasoning_content: reply.thinking.text }),
          refusal: null,
          annotations: [],
          ...(calls.length === 0 ? {} : { tool_calls: calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: args(c) } })) }),
        },
        logprobs: reply.logprobs === undefined ? null : { content: openAiTokens(scriptedTokens(reply)), refusal: null },
        finish_reason: chatFinish(reply),
      },
    ],
    usage: chatUsage(reply.usage),
    service_tier: "default",
    system_fingerprint: "fp_upstream1",
  };
}

function chatFinish(reply: ScriptedReply): string {
  return reply.truncated ? "length" : (reply.toolCalls?.length ?? 0) > 0 ? "tool_calls" : "stop";
}

function chatUsage(u: ScriptedUsage): unknown {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

export function chatStream(reply: ScriptedReply, model: string, id: string, created: number, includeUsage: boolean): SseChunks {
  const head = { id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_upstream1" };
  const chunk = (delta: unknown, finish: string | null = null, logprobs: unknown = null) =>
    sse({ ...head, choices: [{ index: 0, delta, logprobs, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) });
  const out = [chunk({ role: "assistant", content: "", refusal: null })];
  for (const piece of pieces(reply.thinking?.text ?? "", 2)) out.push(chunk({ reasoning_content: piece }));
  const tokens = openAiTokens(scriptedTokens(reply));
  pieces(reply.text ?? "", 3).forEach((piece, i) => out.push(chunk({ content: piece }, null, reply.logprobs === undefined ? null : { content: [tokens[i]], refusal: null })));
  (reply.toolCalls ?? []).forEach((call, index) => {
    out.push(chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }));
    for (const piece of pieces(args(call), 2)) out.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  out.push(chunk({}, chatFinish(reply)));
  if (includeUsage) out.push(sse({ ...head, choices: [], usage: chatUsage(reply.usage) }));
  out.push("data: [DONE]\n\n");
  return out;
}

// ---------------------------------------------------------------- OpenAI Responses

function responsesOutput(reply: ScriptedReply, n: number): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  if (reply.thinking !== undefined) {
    items.push({ id: `rs_up${n}`, type: "reasoning", summary: [{ type: "summary_text", text: reply.thinking.text }], encrypted_content: reply.thinking.signature });
  }
  if (reply.text !== undefined) {
    items.push({ id: `msg_up${n}`, type: "message", status: reply.truncated ? "incomplete" : "completed", role: "assistant", content: [{ type: "output_text", text: reply.text, annotations: [], logprobs: reply.logprobs === undefined ? [] : openAiTokens(scriptedTokens(reply)) }] });
  }
  (reply.toolCalls ?? []).forEach((c, i) => items.push({ id: `fc_up${n}_${i}`, type: "function_call", status: "completed", arguments: args(c), call_id: c.id, name: c.name }));
  return items;
}

function responsesObject(reply: ScriptedReply, model: string, id: string, created: number, n: number, done: boolean): Record<string, unknown> {
  return {
    id,
    object: "response",
    created_at: created,
    status: !done ? "in_progress" : reply.truncated ? "incomplete" : "completed",
    error: null,
    incomplete_details: done && reply.truncated ? { reason: "max_output_tokens" } : null,
    instructions: null,
    max_output_tokens: null,
    model,
    output: done ? responsesOutput(reply, n) : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1.0,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1.0,
    truncation: "disabled",
    usage: done
      ? { input_tokens: reply.usage.input, input_tokens_details: { cached_tokens: reply.usage.cached ?? 0 }, output_tokens: reply.usage.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: reply.usage.input + reply.usage.output }
      : null,
    user: null,
    metadata: {},
  };
}

export function responsesBody(reply: ScriptedReply, model: string, id: string, created: number, n: number): unknown {
  return responsesObject(reply, model, id, created, n, true);
}

export function responsesStream(reply: ScriptedReply, model: string, id: string, created: number, n: number): SseChunks {
  let seq = 0;
  const ev = (type: string, fields: Record<string, unknown>) => sse({ type, sequence_number: seq++, ...fields }, type);
  const out = [ev("response.created", { response: responsesObject(reply, model, id, created, n, false) }), ev("response.in_progress", { response: responsesObject(reply, model, id, created, n, false) })];
  const items = responsesOutput(reply, n);
  items.forEach((item, output_index) => {
    if (item.type === "reasoning") {
      const text = reply.thinking!.text;
      out.push(ev("response.output_item.added", { output_index, item: { id: item.id, type: "reasoning", summary: [] } }));
      out.push(ev("response.reasoning_summary_part.added", { item_id: item.id, output_index, summary_index: 0, part: { type: "summary_text", text: "" } }));
      for (const delta of pieces(text, 2)) out.push(ev("response.reasoning_summary_text.delta", { item_id: item.id, output_index, summary_index: 0, delta }));
      out.push(ev("response.reasoning_summary_text.done", { item_id: item.id, output_index, summary_index: 0, text }));
      out.push(ev("response.reasoning_summary_part.done", { item_id: item.id, output_index, summary_index: 0, part: { type: "summary_text", text } }));
    } else if (item.type === "message") {
      const text = reply.text ?? "";
      out.push(ev("response.output_item.added", { output_index, item: { ...item, status: "in_progress", content: [] } }));
      out.push(ev("response.content_part.added", { item_id: item.id, output_index, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }));
      const tokens = reply.logprobs === undefined ? [] : openAiTokens(scriptedTokens(reply));
      pieces(text, 3).forEach((delta, i) => out.push(ev("response.output_text.delta", { item_id: item.id, output_index, content_index: 0, delta, logprobs: tokens[i] === undefined ? [] : [tokens[i]] })));
      out.push(ev("response.output_text.done", { item_id: item.id, output_index, content_index: 0, text, logprobs: tokens }));
      out.push(ev("response.content_part.done", { item_id: item.id, output_index, content_index: 0, part: { type: "output_text", text, annotations: [] } }));
    } else {
      out.push(ev("response.output_item.added", { output_index, item: { ...item, status: "in_progress", arguments: "" } }));
      for (const delta of pieces(item.arguments as string, 2)) out.push(ev("response.function_call_arguments.delta", { item_id: item.id, output_index, delta }));
      out.push(ev("response.function_call_arguments.done", { item_id: item.id, output_index, name: item.name, arguments: item.arguments }));
    }
    out.push(ev("response.output_item.done", { output_index, item }));
  });
  out.push(ev(reply.truncated ? "response.incomplete" : "response.completed", { response: responsesObject(reply, model, id, created, n, true) }));
  return out;
}

// ---------------------------------------------------------------- Anthropic Messages

function anthropicStop(reply: ScriptedReply): string {
  return reply.truncated ? "max_tokens" : (reply.toolCalls?.length ?? 0) > 0 ? "tool_use" : "end_turn";
}

/** Anthropic counts cache reads apart from `input_tokens`. */
function anthropicUsage(u: ScriptedUsage, output: number): Record<string, unknown> {
  const cached = u.cached ?? 0;
  return { input_tokens: u.input - cached, cache_creation_input_tokens: 0, cache_read_input_tokens: cached, output_tokens: output, service_tier: "standard" };
}

export function anthropicBody(reply: ScriptedReply, model: string, id: string): unknown {
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content: [
      ...(reply.thinking === undefined ? [] : [{ type: "thinking", thinking: reply.thinking.text, signature: reply.thinking.signature }]),
      ...(reply.text === undefined ? [] : [{ type: "text", text: reply.text }]),
      ...(reply.toolCalls ?? []).map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.arguments })),
    ],
    stop_reason: anthropicStop(reply),
    stop_sequence: null,
    usage: anthropicUsage(reply.usage, reply.usage.output),
  };
}

export function anthropicStream(reply: ScriptedReply, model: string, id: string): SseChunks {
  const ev = (type: string, fields: Record<string, unknown> = {}) => sse({ type, ...fields }, type);
  const out = [
    ev("message_start", { message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(reply.usage, 1) } }),
    ev("ping"),
  ];
  let index = 0;
  if (reply.thinking !== undefined) {
    out.push(ev("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } }));
    for (const thinking of pieces(reply.thinking.text, 2)) out.push(ev("content_block_delta", { index, delta: { type: "thinking_delta", thinking } }));
    out.push(ev("content_block_delta", { index, delta: { type: "signature_delta", signature: reply.thinking.signature } }));
    out.push(ev("content_block_stop", { index }));
    index++;
  }
  if (reply.text !== undefined) {
    out.push(ev("content_block_start", { index, content_block: { type: "text", text: "" } }));
    for (const text of pieces(reply.text, 3)) out.push(ev("content_block_delta", { index, delta: { type: "text_delta", text } }));
    out.push(ev("content_block_stop", { index }));
    index++;
  }
  for (const call of reply.toolCalls ?? []) {
    out.push(ev("content_block_start", { index, content_block: { type: "tool_use", id: call.id, name: call.name, input: {} } }));
    out.push(ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: "" } }));
    for (const partial_json of pieces(args(call), 2)) out.push(ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } }));
    out.push(ev("content_block_stop", { index }));
    index++;
  }
  out.push(ev("message_delta", { delta: { stop_reason: anthropicStop(reply), stop_sequence: null }, usage: { output_tokens: reply.usage.output } }));
  out.push(ev("message_stop"));
  return out;
}

// ---------------------------------------------------------------- Gemini

function geminiUsage(u: ScriptedUsage, output: number): Record<string, unknown> {
  return {
    promptTokenCount: u.input,
    candidatesTokenCount: output,
    totalTokenCount: u.input + output,
    ...(u.cached === undefined ? {} : { cachedContentTokenCount: u.cached }),
    promptTokensDetails: [{ modality: "TEXT", tokenCount: u.input }],
  };
}

function geminiCandidate(parts: unknown[], finish: string | undefined): Record<string, unknown> {
  return { content: { parts, role: "model" }, ...(finish === undefined ? {} : { finishReason: finish }), index: 0 };
}

/** Gemini says STOP after function calls too; only the output limit has a name of its own. */
const geminiFinish = (reply: ScriptedReply): string => (reply.truncated ? "MAX_TOKENS" : "STOP");

const functionCallParts = (reply: ScriptedReply): unknown[] => (reply.toolCalls ?? []).map((c) => ({ functionCall: { name: c.name, args: c.arguments } }));

/** The thought summary, then the signature on the first part of the answer, as Gemini sends them. */
const thoughtParts = (reply: ScriptedReply): unknown[] => (reply.thinking === undefined ? [] : [{ text: reply.thinking.text, thought: true }]);
const signed = (parts: Record<string, unknown>[], reply: ScriptedReply): Record<string, unknown>[] =>
  reply.thinking === undefined || parts.length === 0 ? parts : [{ ...parts[0], thoughtSignature: reply.thinking.signature }, ...parts.slice(1)];

export function geminiBody(reply: ScriptedReply, model: string, id: string): unknown {
  const parts = [...thoughtParts(reply), ...signed([...(reply.text === undefined ? [] : [{ text: reply.text }]), ...(functionCallParts(reply) as Record<string, unknown>[])], reply)];
  const candidate = { ...geminiCandidate(parts, geminiFinish(reply)), ...(reply.logprobs === undefined ? {} : { logprobsResult: geminiTokens(scriptedTokens(reply)) }) };
  return { candidates: [candidate], usageMetadata: geminiUsage(reply.usage, reply.usage.output), modelVersion: model, responseId: id };
}

/** Text in pieces with growing usage on every chunk; function calls arrive whole, with the finish. */
export function geminiStream(reply: ScriptedReply, model: string, id: string): SseChunks {
  const texts = pieces(reply.text ?? "", 3);
  const out: string[] = [];
  if (reply.thinking !== undefined) out.push(sse({ candidates: [geminiCandidate(thoughtParts(reply), undefined)], usageMetadata: geminiUsage(reply.usage, 1), modelVersion: model, responseId: id }));
  texts.forEach((text, i) => {
    const last = i === texts.length - 1 && (reply.toolCalls?.length ?? 0) === 0;
    const output = last ? reply.usage.output : Math.max(1, Math.floor((reply.usage.output * (i + 1)) / (texts.length + 1)));
    const parts = i === 0 ? signed([{ text }], reply) : [{ text }];
    const token = scriptedTokens(reply)[i]!;
    const candidate = { ...geminiCandidate(parts, last ? geminiFinish(reply) : undefined), ...(reply.logprobs === undefined ? {} : { logprobsResult: geminiTokens([token]) }) };
    out.push(sse({ candidates: [candidate], usageMetadata: geminiUsage(reply.usage, output), modelVersion: model, responseId: id }));
  });
  if ((reply.toolCalls?.length ?? 0) > 0 || texts.length === 0) {
    out.push(sse({ candidates: [geminiCandidate(functionCallParts(reply), geminiFinish(reply))], usageMetadata: geminiUsage(reply.usage, reply.usage.output), modelVersion: model, responseId: id }));
  }
  return out;
}

// ---------------------------------------------------------------- errors

const OPENAI_ERRORS: Record<number, { type: string; code: string | null; param?: string }> = {
  400: { type: "invalid_request_error", code: "context_length_exceeded", param: "messages" },
  401: { type: "invalid_request_error", code: "invalid_api_key" },
  429: { type: "requests", code: "rate_limit_exceeded" },
  500: { type: "server_error", code: null },
};

const ANTHROPIC_ERRORS: Record<number, string> = { 400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error" };

const GOOGLE_STATUSES: Record<number, string> = { 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE" };

/** The error body and headers each format's API sends for `err`. */
export function errorReply(format: UpstreamFormat, err: ScriptedError): { body: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = err.retryAfter === undefined || err.retryInfoOnly === true ? {} : { "retry-after": String(err.retryAfter) };
  switch (format) {
    case "openai-chat":
    case "openai-responses": {
      const shape = OPENAI_ERRORS[err.status] ?? { type: "invalid_request_error", code: null };
      return { body: { error: { message: err.message, type: shape.type, param: shape.param ?? null, code: shape.code } }, headers };
    }
    case "anthropic-messages":
      return { body: { type: "error", error: { type: ANTHROPIC_ERRORS[err.status] ?? "api_error", message: err.message }, request_id: "req_011CUpstream" }, headers };
    case "gemini": {
      const details = err.retryAfter === undefined ? [] : [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${err.retryAfter}s` }];
      return { body: { error: { code: err.status, message: err.message, status: GOOGLE_STATUSES[err.status] ?? "UNKNOWN", ...(details.length === 0 ? {} : { details }) } }, headers };
    }
  }
}
