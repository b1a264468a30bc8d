/**
 * The four client APIs as apps call them through the gateway, each with its official SDK, and
 * what each reads back, field by field, in its own wire terms (no mapping to a common model: the
 * tests say what each client must see), plain, streamed, and as a second turn with tool results.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, type GenerateContentResponse } from "@google/genai";
import OpenAI from "openai";
import { ChatCompletionStream } from "openai/lib/ChatCompletionStream";
import { ResponseStream } from "openai/lib/responses/ResponseStream";
import type { UpstreamFormat } from "./upstream-formats.js";

export type ClientApi = UpstreamFormat;
export const CLIENT_APIS: readonly ClientApi[] = ["openai-chat", "openai-responses", "anthropic-messages", "gemini"];

/** What the app asks, the same in every client API. */
export interface Ask {
  model: string;
  system: string;
  user: string;
  maxTokens: number;
  /** Offer the get_weather tool. */
  tools: boolean;
  stream: boolean;
}

export const WEATHER_TOOL = {
  name: "get_weather",
  description: "Current weather for a city.",
  parameters: { type: "object", properties: { city: { type: "string", description: "City name" } }, required: ["city"] },
} as const;

/** What the SDK handed the app, in the client API's own terms. */
export interface Seen {
  text: string;
  /** Thinking text, where the client API has a place for it (Chat Completions: the non-standard reasoning_content). */
  thinking: string;
  /** Thinking signatures: Anthropic's signature, Gemini's thoughtSignature, Responses' encrypted_content. */
  signatures: string[];
  toolCalls: { id: string | undefined; name: string; args: unknown }[];
  /** finish_reason, stop_reason, finishReason, or Responses' status (with incomplete_details.reason). */
  finish: string | undefined;
  /** The client API's own counters: Anthropic's input excludes cache reads; the others' include them. */
  usage: { input: number | undefined; output: number | undefined; cached: number | undefined };
  /** The gateway's x-switchyard-backend header. */
  backend: string | null;
}

export interface Clients {
  openai: OpenAI;
  anthropic: Anthropic;
  genai: GoogleGenAI;
}

export function clientsFor(gatewayUrl: string, apiKey: string): Clients {
  return {
    openai: new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey, maxRetries: 0 }),
    anthropic: new Anthropic({ baseURL: gatewayUrl, apiKey, maxRetries: 0 }),
    // No retryOptions: without them the genai SDK makes one attempt and raises ApiError with the status.
    genai: new GoogleGenAI({ apiKey, httpOptions: { baseUrl: gatewayUrl } }),
  };
}

export function askWith(clients: Clients, api: ClientApi, ask: Ask): Promise<Seen> {
  switch (api) {
    case "openai-chat":
      return askChat(clients.openai, ask);
    case "openai-responses":
      return askResponses(clients.openai, ask);
    case "anthropic-messages":
      return askAnthropic(clients.anthropic, ask);
    case "gemini":
      return askGemini(clients.genai, ask);
  }
}

async function askChat(client: OpenAI, ask: Ask): Promise<Seen> {
  const params = {
    model: ask.model,
    messages: [
      { role: "system" as const, content: ask.system },
      { role: "user" as const, content: ask.user },
    ],
    max_tokens: ask.maxTokens,
    ...(ask.tools ? { tools: [{ type: "function" as const, function: { ...WEATHER_TOOL } }] } : {}),
  };
  let completion: OpenAI.ChatCompletion;
  let backend: string | null;
  let streamedThinking: string | undefined;
  if (ask.stream) {
    // The SDK's stream helper accumulates the chunks; opened by hand so the response headers show.
    const { data: raw, response } = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }).withResponse();
    const stream = ChatCompletionStream.fromReadableStream(raw.toReadableStream());
    // The SDK's accumulator keeps only the last piece of fields outside OpenAI's schema, so
    // reasoning_content (DeepSeek's, vLLM's) is joined from the raw chunks.
    streamedThinking = "";
    stream.on("chunk", (chunk) => {
      streamedThinking += (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? "";
    });
    completion = await stream.finalChatCompletion();
    backend = response.headers.get("x-switchyard-backend");
  } else {
    const { data, response } = await client.chat.completions.create(params).withResponse();
    completion = data;
    backend = response.headers.get("x-switchyard-backend");
  }
  const choice = completion.choices[0]!;
  return {
    text: choice.message.content ?? "",
    thinking: streamedThinking ?? (choice.message as { reasoning_content?: string }).reasoning_content ?? "",
    signatures: [],
    toolCalls: (choice.message.tool_calls ?? []).map((c) => {
      if (c.type !== "function") throw new Error(`unexpected tool call type ${c.type}`);
      return { id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) };
    }),
    finish: choice.finish_reason,
    usage: { input: completion.usage?.prompt_tokens, output: completion.usage?.completion_tokens, cached: completion.usage?.prompt_tokens_details?.cached_tokens },
    backend,
  };
}

async function askResponses(client: OpenAI, ask: Ask): Promise<Seen> {
  const params = {
    model: ask.model,
    instructions: ask.system,
    input: ask.user,
    max_output_tokens: ask.maxTokens,
    ...(ask.tools ? { tools: [{ type: "function" as const, ...WEATHER_TOOL, parameters: { ...WEATHER_TOOL.parameters }, strict: false }] } : {}),
  };
  let response: OpenAI.Responses.Response;
  let backend: string | null = null;
  if (ask.stream) {
    // The SDK's stream helper reads the events; opened by hand so the response headers show.
    const { data: raw, response: http } = await client.responses.create({ ...params, stream: true }).withResponse();
    response = await ResponseStream.fromReadableStream(raw.toReadableStream()).finalResponse();
    backend = http.headers.get("x-switchyard-backend");
  } else {
    const result = await client.responses.create(params).withResponse();
    response = result.data;
    backend = result.response.headers.get("x-switchyard-backend");
  }
  const calls = response.output.filter((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === "function_call");
  const reasoning = response.output.filter((item): item is OpenAI.Responses.ResponseReasoningItem => item.type === "reasoning");
  return {
    text: response.output_text,
    thinking: reasoning.flatMap((r) => r.summary.map((s) => s.text)).join(""),
    signatures: reasoning.flatMap((r) => (r.encrypted_content ? [r.encrypted_content] : [])),
    toolCalls: calls.map((c) => ({ id: c.call_id, name: c.name, args: JSON.parse(c.arguments) })),
    finish: response.incomplete_details?.reason ? `${response.status}:${response.incomplete_details.reason}` : (response.status ?? undefined),
    usage: { input: response.usage?.input_tokens, output: response.usage?.output_tokens, cached: response.usage?.input_tokens_details?.cached_tokens },
    backend,
  };
}

async function askAnthropic(client: Anthropic, ask: Ask): Promise<Seen> {
  const params = {
    model: ask.model,
    max_tokens: ask.maxTokens,
    system: ask.system,
    messages: [{ role: "user" as const, content: ask.user }],
    ...(ask.tools ? { tools: [{ name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, input_schema: { ...WEATHER_TOOL.parameters, required: [...WEATHER_TOOL.parameters.required] } }] } : {}),
  };
  let message: Anthropic.Message;
  let backend: string | null = null;
  if (ask.stream) {
    const { data: stream, response } = await client.messages.stream(params).withResponse();
    message = await stream.finalMessage();
    backend = response.headers.get("x-switchyard-backend");
  } else {
    const result = await client.messages.create(params).withResponse();
    message = result.data;
    backend = result.response.headers.get("x-switchyard-backend");
  }
  return {
    text: message.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join(""),
    thinking: message.content.flatMap((b) => (b.type === "thinking" ? [b.thinking] : [])).join(""),
    signatures: message.content.flatMap((b) => (b.type === "thinking" && b.signature !== "" ? [b.signature] : [])),
    toolCalls: message.content.flatMap((b) => (b.type === "tool_use" ? [{ id: b.id, name: b.name, args: b.input }] : [])),
    finish: message.stop_reason ?? undefined,
    usage: { input: message.usage.input_tokens, output: message.usage.output_tokens, cached: message.usage.cache_read_input_tokens ?? undefined },
    backend,
  };
}

async function askGemini(ai: GoogleGenAI, ask: Ask): Promise<Seen> {
  const params = {
    model: ask.model,
    contents: ask.user,
    config: {
      systemInstruction: ask.system,
      maxOutputTokens: ask.maxTokens,
      ...(ask.tools ? { tools: [{ functionDeclarations: [{ name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, parametersJsonSchema: WEATHER_TOOL.parameters }] }] } : {}),
    },
  };
  const chunks: GenerateContentResponse[] = ask.stream ? [] : [await ai.models.generateContent(params)];
  if (ask.stream) for await (const chunk of await ai.models.generateContentStream(params)) chunks.push(chunk);
  // Parts read directly: the SDK's `.text` getter warns when a reply also holds function calls.
  const parts = chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []);
  const finish = chunks.map((c) => c.candidates?.[0]?.finishReason).filter((f) => f !== undefined).at(-1);
  const usage = chunks.map((c) => c.usageMetadata).filter((u) => u !== undefined).at(-1);
  return {
    text: parts.flatMap((p) => (typeof p.text === "string" && p.thought !== true ? [p.text] : [])).join(""),
    thinking: parts.flatMap((p) => (typeof p.text === "string" && p.thought === true ? [p.text] : [])).join(""),
    signatures: parts.flatMap((p) => (p.thoughtSignature ? [p.thoughtSignature] : [])),
    toolCalls: parts.flatMap((p) => (p.functionCall ? [{ id: p.functionCall.id, name: p.functionCall.name ?? "", args: p.functionCall.args }] : [])),
    finish,
    usage: { input: usage?.promptTokenCount, output: usage?.candidatesTokenCount, cached: usage?.cachedContentTokenCount },
    backend: chunks[0]?.sdkHttpResponse?.headers?.["x-switchyard-backend"] ?? null,
  };
}

/** A stream read with the SDK's plain iterator: the text that arrived, and what the SDK threw, if anything. */
export interface StreamOutcome {
  text: string;
  error: unknown;
}

export async function streamWith(clients: Clients, api: ClientApi, ask: Omit<Ask, "stream">): Promise<StreamOutcome> {
  let text = "";
  try {
    switch (api) {
      case "openai-chat": {
        const stream = await clients.openai.chat.completions.create({ model: ask.model, messages: [{ role: "user", content: ask.user }], max_tokens: ask.maxTokens, stream: true });
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
        break;
      }
      case "openai-responses": {
        const stream = await clients.openai.responses.create({ model: ask.model, input: ask.user, max_output_tokens: ask.maxTokens, stream: true });
        for await (const event of stream) {
          if (event.type === "response.output_text.delta") text += event.delta;
          // The SDK yields Responses' error and failure events; the app decides what they mean.
          if (event.type === "error") throw Object.assign(new Error(event.message), { event });
          if (event.type === "response.failed") throw Object.assign(new Error(event.response.error?.message ?? "failed"), { event });
        }
        break;
      }
      case "anthropic-messages": {
        const stream = await clients.anthropic.messages.create({ model: ask.model, max_tokens: ask.maxTokens, messages: [{ role: "user", content: ask.user }], stream: true });
        for await (const event of stream) if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
        break;
      }
      case "gemini": {
        for await (const chunk of await clients.genai.models.generateContentStream({ model: ask.model, contents: ask.user, config: { maxOutputTokens: ask.maxTokens } })) {
          text += (chunk.candidates?.[0]?.content?.parts ?? []).map((p) => p.text ?? "").join("");
        }
        break;
      }
    }
  } catch (error) {
    return { text, error };
  }
  return { text, error: undefined };
}

/** The second turn of a tool conversation: the two get_weather calls of the first, and their results. */
export const TOOL_TURN = {
  calls: [
    { id: "call_paris_1", city: "Paris", result: "18C and sunny" },
    { id: "call_oslo_2", city: "Oslo", result: "-2C and snowing" },
  ],
};

/** Sends the tool conversation's second turn in the client API's own shape (plain, not streamed). */
export async function sendToolResults(clients: Clients, api: ClientApi, model: string): Promise<string> {
  const user = "Weather in Paris and Oslo?";
  const calls = TOOL_TURN.calls;
  switch (api) {
    case "openai-chat": {
      const reply = await clients.openai.chat.completions.create({
        model,
        tools: [{ type: "function", function: { ...WEATHER_TOOL } }],
        messages: [
          { role: "user", content: user },
          { role: "assistant", content: null, tool_calls: calls.map((c) => ({ id: c.id, type: "function" as const, function: { name: "get_weather", arguments: JSON.stringify({ city: c.city }) } })) },
          ...calls.map((c) => ({ role: "tool" as const, tool_call_id: c.id, content: c.result })),
        ],
      });
      return reply.choices[0]!.message.content ?? "";
    }
    case "openai-responses": {
      const reply = await clients.openai.responses.create({
        model,
        tools: [{ type: "function", ...WEATHER_TOOL, parameters: { ...WEATHER_TOOL.parameters }, strict: false }],
        input: [
          { role: "user", content: user },
          ...calls.map((c) => ({ type: "function_call" as const, call_id: c.id, name: "get_weather", arguments: JSON.stringify({ city: c.city }) })),
          ...calls.map((c) => ({ type: "function_call_output" as const, call_id: c.id, output: c.result })),
        ],
      });
      return reply.output_text;
    }
    case "anthropic-messages": {
      const reply = await clients.anthropic.messages.create({
        model,
        max_tokens: 100,
        tools: [{ name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, input_schema: { ...WEATHER_TOOL.parameters, required: [...WEATHER_TOOL.parameters.required] } }],
        messages: [
          { role: "user", content: user },
          { role: "assistant", content: calls.map((c) => ({ type: "tool_use" as const, id: c.id, name: "get_weather", input: { city: c.city } })) },
          { role: "user", content: calls.map((c) => ({ type: "tool_result" as const, tool_use_id: c.id, content: c.result })) },
        ],
      });
      return reply.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
    }
    case "gemini": {
      // Gemini clients send no call ids: results pair with calls by name and order.
      const reply = await clients.genai.models.generateContent({
        model,
        config: { tools: [{ functionDeclarations: [{ name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, parametersJsonSchema: WEATHER_TOOL.parameters }] }] },
        contents: [
          { role: "user", parts: [{ text: user }] },
          { role: "model", parts: calls.map((c) => ({ functionCall: { name: "get_weather", args: { city: c.city } } })) },
          { role: "user", parts: calls.map((c) => ({ functionResponse: { name: "get_weather", response: { result: c.result } } })) },
        ],
      });
      return reply.text ?? "";
    }
  }
}
