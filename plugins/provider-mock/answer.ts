/**
 * What the mock answers, in IR: the reply text (or echo, or a tool call), the usage, and the same
 * answer cut into stream events. Encoding to a wire format is the format translator's job.
 */
import { isObject, type IrRequest, type IrTokenLogprob, type IrResponse, type IrStreamEvent, type IrUsage } from "../../core/index.js";
import type { ProviderMockConfig } from "./config.generated.js";

export const DEFAULT_REPLY = "Hello from switchyard's mock provider.";

export interface AnswerIds {
  response: string;
  toolCall: string;
}

export interface MockAnswer {
  response: IrResponse;
  /** Stream events grouped by the body chunk that carries them: opening, one per content delta, closing. */
  opening: IrStreamEvent[];
  deltas: IrStreamEvent[];
  closing: IrStreamEvent[];
}

export function composeAnswer(request: IrRequest, config: ProviderMockConfig, model: string, ids: AnswerIds): MockAnswer {
  const created = Math.floor(Date.now() / 1000);
  const chunks = config.chunks ?? 4;
  const tool = chosenTool(request, config);

  if (tool !== undefined) {
    const args = JSON.stringify(config.toolArguments ?? {});
    const usage = config.usage ?? estimateUsage(request, tool.length + args.length);
    const pieces = splitText(args, chunks);
    return {
      response: {
        id: ids.response,
        model,
        created,
        content: [{ type: "tool_call", id: ids.toolCall, name: tool, arguments: args }],
        finishReason: "tool_calls",
        usage,
      },
      opening: [{ type: "start", id: ids.response, model, created }],
      deltas: pieces.map((argumentsDelta, i) =>
        i === 0 ? { type: "tool_call", index: 0, id: ids.toolCall, name: tool, argumentsDelta } : { type: "tool_call", index: 0, argumentsDelta },
      ),
      closing: [
        { type: "usage", usage },
        { type: "finish", finishReason: "tool_calls" },
      ],
    };
  }

  const text = (config.echo === true ? lastUserText(request) : undefined) || (config.reply ?? DEFAULT_REPLY);
  const usage = config.usage ?? estimateUsage(request, text.length);
  const pieces = splitText(text, chunks);
  const logprobs = request.topLogprobs === undefined ? undefined : pieces.map((piece, i) => tokenLogprob(piece, i, request.topLogprobs!));
  const thinking = config.thinking;
  return {
    response: {
      id: ids.response,
      model,
      created,
      content: [...(thinking === undefined ? [] : [{ type: "thinking" as const, ...thinking }]), { type: "text", text }],
      finishReason: "stop",
      usage,
      ...(logprobs === undefined ? {} : { logprobs }),
    },
    opening: [{ type: "start", id: ids.response, model, created }],
    // Each piece is one "token"; its logprobs follow it in the same chunk.
    deltas: [
      ...(thinking === undefined ? [] : [{ type: "thinking" as const, text: thinking.text }, { type: "thinking" as const, text: "", signature: thinking.signature }]),
      ...pieces.flatMap((piece, i): IrStreamEvent[] => [{ type: "text", text: piece }, ...(logprobs === undefined ? [] : [{ type: "logprobs" as const, logprobs: [logprobs[i]!] }])]),
    ],
    closing: [
      { type: "usage", usage },
      { type: "finish", finishReason: "stop" },
    ],
  };
}

/** A made-up but well-formed log probability for the mock's i-th piece, with `top` likelier-to-less-likely alternatives (the piece first). */
function tokenLogprob(piece: string, i: number, top: number): IrTokenLogprob {
  const logprob = -0.05 * (i + 1);
  if (top === 0) return { token: piece, logprob };
  return { token: piece, logprob, top: Array.from({ length: top }, (_, k) => (k === 0 ? { token: piece, logprob } : { token: `${piece.trim() || "_"}~${k}`, logprob: logprob - k })) };
}

function chosenTool(request: IrRequest, config: ProviderMockConfig): string | undefined {
  if (config.toolCalls !== true || !request.tools?.length || request.toolChoice?.type === "none") return undefined;
  return request.toolChoice?.type === "tool" ? request.toolChoice.name : request.tools[0]!.name;
}

function lastUserText(request: IrRequest): string | undefined {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role !== "user") continue;
    return message.content.map((p) => (p.type === "text" ? p.text : "")).join("");
  }
  return undefined;
}

/** About 4 characters per token, at least 1 each way: enough for cost and budget tests to see numbers move. */
function estimateUsage(request: IrRequest, outputChars: number): IrUsage {
  let inputChars = 0;
  for (const message of request.messages) {
    for (const part of message.content) {
      if (part.type === "text" || part.type === "thinking") inputChars += part.text.length;
      else if (part.type === "tool_call") inputChars += part.arguments.length;
      else if (part.type === "tool_result") for (const c of part.content) if (c.type === "text") inputChars += c.text.length;
    }
  }
  return { inputTokens: Math.max(1, Math.ceil(inputChars / 4)), outputTokens: Math.max(1, Math.ceil(outputChars / 4)) };
}

/** Keys whose string values name structure, not content: not counted as input. */
const STRUCTURAL_KEYS = new Set(["model", "role", "type"]);

/**
 * Input tokens of a request body in any format, at about 4 characters per token of its text
 * (messages, system prompt, tool definitions), at least 1: the mock's token count. It reads the
 * wire body, not the IR, because a count request need not be a valid generate request (Anthropic's
 * count_tokens has no max_tokens).
 */
export function estimateInputTokens(body: Record<string, unknown>): number {
  let chars = 0;
  const walk = (value: unknown, key: string | undefined): void => {
    if (typeof value === "string") {
      if (key === undefined || !STRUCTURAL_KEYS.has(key)) chars += value.length;
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, undefined);
    } else if (isObject(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(body, undefined);
  return Math.max(1, Math.ceil(chars / 4));
}

/** Cuts text into `n` pieces of near-equal length (fewer when it is shorter), never inside a surrogate pair. */
export function splitText(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.min(n, chars.length);
  const pieces: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const size = Math.floor(chars.length / count) + (i < chars.length % count ? 1 : 0);
    pieces.push(chars.slice(at, at + size).join(""));
    at += size;
  }
  return pieces;
}
