/**
 * Multi-turn conversations as apps hold them, with each official SDK: a user turn in the client
 * API's own shape (text, a PDF, audio), the history the app keeps and sends back (the assistant
 * turn exactly as the SDK handed it over, reasoning and signatures included), plain or streamed.
 * What the SDK read back is reported in the client API's own terms.
 */
import type { GenerateContentResponse } from "@google/genai";
import type OpenAI from "openai";
import { ChatCompletionStream } from "openai/lib/ChatCompletionStream";
import { ResponseStream } from "openai/lib/responses/ResponseStream";
import type { ClientApi, Clients } from "./format-clients.js";

export interface TurnAsk {
  model: string;
  stream: boolean;
  /** The user turn's content in the client API's own shape (a string, or its parts/blocks). */
  user: unknown;
  /** Earlier turns in the client API's own shape, as `Reply.history` returned them. */
  history?: unknown[];
  /** More request fields in the client API's own names (logprobs, thinking config…). */
  params?: Record<string, unknown>;
}

export interface TokenSeen {
  token: string;
  logprob: number;
  top: number;
}

export interface Reply {
  text: string;
  thinking: string;
  signatures: string[];
  logprobs: TokenSeen[];
  /** The conversation so far, this turn's user and assistant messages included, ready to send next turn. */
  history: unknown[];
  backend: string | null;
}

const header = (headers: Headers): string | null => headers.get("x-switchyard-backend");

export function converse(clients: Clients, api: ClientApi, ask: TurnAsk): Promise<Reply> {
  switch (api) {
    case "openai-chat":
      return converseChat(clients.openai, ask);
    case "openai-responses":
      return converseResponses(clients.openai, ask);
    case "anthropic-messages":
      return converseAnthropic(clients, ask);
    case "gemini":
      return converseGemini(clients, ask);
  }
}

async function converseChat(client: OpenAI, ask: TurnAsk): Promise<Reply> {
  const messages = [...(ask.history ?? []), { role: "user", content: ask.user }];
  const params = { model: ask.model, messages, max_tokens: 500, ...ask.params } as OpenAI.ChatCompletionCreateParamsNonStreaming;
  let completion: OpenAI.ChatCompletion;
  let backend: string | null;
  let thinking = "";
  if (ask.stream) {
    const { data: raw, response } = await client.chat.completions.create({ ...params, stream: true }).withResponse();
    const stream = ChatCompletionStream.fromReadableStream(raw.toReadableStream());
    stream.on("chunk", (chunk) => {
      thinking += (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? "";
    });
    completion = await stream.finalChatCompletion();
    backend = header(response.headers);
  } else {
    const { data, response } = await client.chat.completions.create(params).withResponse();
    completion = data;
    thinking = (data.choices[0]!.message as { reasoning_content?: string }).reasoning_content ?? "";
    backend = header(response.headers);
  }
  const choice = completion.choices[0]!;
  const text = choice.message.content ?? "";
  return {
    text,
    thinking,
    signatures: [],
    logprobs: (choice.logprobs?.content ?? []).map((t) => ({ token: t.token, logprob: t.logprob, top: t.top_logprobs.length })),
    // DeepSeek-style clients send reasoning_content back; OpenAI's own ignore it.
    history: [...messages, { role: "assistant", content: text, ...(thinking === "" ? {} : { reasoning_content: thinking }) }],
    backend,
  };
}

async function converseResponses(client: OpenAI, ask: TurnAsk): Promise<Reply> {
  const input = [...(ask.history ?? []), { role: "user", content: ask.user }];
  const params = { model: ask.model, input, ...ask.params } as OpenAI.Responses.ResponseCreateParamsNonStreaming;
  let response: OpenAI.Responses.Response;
  let backend: string | null;
  if (ask.stream) {
    const { data: raw, response: http } = await client.responses.create({ ...params, stream: true }).withResponse();
    response = await ResponseStream.fromReadableStream(raw.toReadableStream()).finalResponse();
    backend = header(http.headers);
  } else {
    const result = await client.responses.create(params).withResponse();
    response = result.data;
    backend = header(result.response.headers);
  }
  const reasoning = response.output.filter((item): item is OpenAI.Responses.ResponseReasoningItem => item.type === "reasoning");
  const texts = response.output.flatMap((item) => (item.type === "message" ? item.content : []));
  return {
    text: response.output_text,
    thinking: reasoning.flatMap((r) => r.summary.map((s) => s.text)).join(""),
    signatures: reasoning.flatMap((r) => (r.encrypted_content ? [r.encrypted_content] : [])),
    logprobs: texts.flatMap((c) => (c.type === "output_text" ? (c.logprobs ?? []) : [])).map((t) => ({ token: t.token, logprob: t.logprob, top: t.top_logprobs.length })),
    // Stateless apps send the output items back as they came.
    history: [...input, ...response.output],
    backend,
  };
}

async function converseAnthropic(clients: Clients, ask: TurnAsk): Promise<Reply> {
  const messages = [...(ask.history ?? []), { role: "user", content: ask.user }];
  const params = { model: ask.model, max_tokens: 2048, messages, ...ask.params } as Parameters<Clients["anthropic"]["messages"]["create"]>[0] & { stream?: false };
  let message;
  let backend: string | null;
  if (ask.stream) {
    const { data: stream, response } = await clients.anthropic.messages.stream(params).withResponse();
    message = await stream.finalMessage();
    backend = header(response.headers);
  } else {
    const result = await clients.anthropic.messages.create(params).withResponse();
    message = result.data;
    backend = header(result.response.headers);
  }
  return {
    text: message.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join(""),
    thinking: message.content.flatMap((b) => (b.type === "thinking" ? [b.thinking] : [])).join(""),
    signatures: message.content.flatMap((b) => (b.type === "thinking" && b.signature !== "" ? [b.signature] : [])),
    logprobs: [],
    history: [...messages, { role: "assistant", content: message.content }],
    backend,
  };
}

async function converseGemini(clients: Clients, ask: TurnAsk): Promise<Reply> {
  const contents = [...(ask.history ?? []), { role: "user", parts: typeof ask.user === "string" ? [{ text: ask.user }] : ask.user }];
  const params = { model: ask.model, contents, config: { ...ask.params } } as Parameters<Clients["genai"]["models"]["generateContent"]>[0];
  const chunks: GenerateContentResponse[] = ask.stream ? [] : [await clients.genai.models.generateContent(params)];
  if (ask.stream) for await (const chunk of await clients.genai.models.generateContentStream(params)) chunks.push(chunk);
  const candidates = chunks.map((c) => c.candidates?.[0]);
  const parts = candidates.flatMap((c) => c?.content?.parts ?? []);
  const logprobs = candidates.flatMap((c) => {
    const chosen = c?.logprobsResult?.chosenCandidates ?? [];
    const top = c?.logprobsResult?.topCandidates ?? [];
    return chosen.map((t, i) => ({ token: t.token ?? "", logprob: t.logProbability ?? 0, top: top[i]?.candidates?.length ?? 0 }));
  });
  return {
    text: parts.flatMap((p) => (typeof p.text === "string" && p.thought !== true ? [p.text] : [])).join(""),
    thinking: parts.flatMap((p) => (typeof p.text === "string" && p.thought === true ? [p.text] : [])).join(""),
    signatures: parts.flatMap((p) => (p.thoughtSignature ? [p.thoughtSignature] : [])),
    logprobs,
    history: [...contents, { role: "model", parts }],
    backend: chunks[0]?.sdkHttpResponse?.headers?.["x-switchyard-backend"] ?? null,
  };
}
