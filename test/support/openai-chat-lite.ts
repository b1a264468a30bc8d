/**
 * A deliberately small openai-chat translator for provider tests: just the JSON and SSE framing
 * of Chat Completions (text, one tool call, usage, [DONE]). The real translator is the
 * format-openai-chat plugin; this one exists so provider tests do not depend on it.
 */
import { GatewayError, type FormatRegistry, type FormatTranslator, type IrMessage, type IrRequest, type IrStreamEvent } from "../../core/index.js";
import { sseFrame } from "../../lib/wire/sse.js";

function notInLite(name: string): never {
  throw new Error(`openai-chat-lite: ${name} is not part of this test translator`);
}

function textOf(content: unknown, param: string): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p: { type?: string; text?: string }) => (p.type === "text" ? (p.text ?? "") : "")).join("");
  throw GatewayError.invalidRequest(`${param} must be a string or an array of parts`, param);
}

export const openAiChatLite: FormatTranslator = {
  format: "openai-chat",

  peek(body) {
    const b = body as Record<string, unknown>;
    return { model: typeof b.model === "string" ? b.model : undefined, stream: b.stream === true };
  },

  requestToIr(body) {
    const b = body as Record<string, unknown>;
    if (!Array.isArray(b.messages)) throw GatewayError.invalidRequest("messages must be an array", "messages");
    const messages: IrMessage[] = b.messages.map((m: Record<string, unknown>, i: number) => ({
      role: m.role as IrMessage["role"],
      content: [{ type: "text", text: textOf(m.content, `messages[${i}].content`) }],
    }));
    const tools = Array.isArray(b.tools)
      ? b.tools.map((t: { function: { name: string; parameters?: Record<string, unknown> } }) => ({ name: t.function.name, parameters: t.function.parameters ?? {} }))
      : undefined;
    const choice = b.tool_choice as { function?: { name: string } } | string | undefined;
    const request: IrRequest = { model: String(b.model), messages, stream: b.stream === true, tools, extra: { stream_options: b.stream_options } };
    if (choice === "none") request.toolChoice = { type: "none" };
    else if (typeof choice === "object" && choice.function) request.toolChoice = { type: "tool", name: choice.function.name };
    return request;
  },

  responseFromIr(response) {
    const text = response.content.map((p) => (p.type === "text" ? p.text : "")).join("");
    const calls = response.content.flatMap((p) => (p.type === "tool_call" ? [{ id: p.id, type: "function", function: { name: p.name, arguments: p.arguments } }] : []));
    return {
      id: response.id,
      object: "chat.completion",
      created: response.created,
      model: response.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: calls.length > 0 ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) },
          finish_reason: response.finishReason,
        },
      ],
      usage: response.usage && {
        prompt_tokens: response.usage.inputTokens,
        completion_tokens: response.usage.outputTokens,
        total_tokens: response.usage.inputTokens + response.usage.outputTokens,
      },
    };
  },

  createStreamEncoder(request, write) {
    const includeUsage = (request.extra?.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    let head = { id: "", model: "", created: 0 };
    let usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined;
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): void =>
      write(sseFrame(JSON.stringify({ id: head.id, object: "chat.completion.chunk", created: head.created, model: head.model, choices, ...extra })));
    return {
      push(event: IrStreamEvent) {
        switch (event.type) {
          case "start":
            head = { id: event.id, model: event.model, created: event.created ?? 0 };
            return chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
          case "text":
            return chunk([{ index: 0, delta: { content: event.text }, finish_reason: null }]);
          case "tool_call":
            return chunk([
              {
                index: 0,
                delta: { tool_calls: [{ index: event.index, id: event.id, type: event.id ? "function" : undefined, function: { name: event.name, arguments: event.argumentsDelta } }] },
                finish_reason: null,
              },
            ]);
          case "usage":
            usage = { prompt_tokens: event.usage.inputTokens, completion_tokens: event.usage.outputTokens, total_tokens: event.usage.inputTokens + event.usage.outputTokens };
            return;
          case "finish":
            return chunk([{ index: 0, delta: {}, finish_reason: event.finishReason }]);
          case "thinking":
            return;
        }
      },
      end() {
        if (includeUsage && usage) chunk([], { usage });
        write("data: [DONE]\n\n");
      },
      error(err) {
        write(sseFrame(JSON.stringify({ error: { message: err.message, type: err.type, code: err.code } })));
      },
    };
  },

  renderError(err) {
    return { status: err.status, body: { error: { message: err.message, type: err.type, code: err.code, param: err.param ?? null } } };
  },

  requestFromIr: () => notInLite("requestFromIr"),
  responseToIr: () => notInLite("responseToIr"),
  createStreamDecoder: () => notInLite("createStreamDecoder"),
  preparePassthrough: () => notInLite("preparePassthrough"),
  usageOf: () => notInLite("usageOf"),
  createStreamObserver: () => notInLite("createStreamObserver"),
};

/** A registry holding the given translators; `add` registers more later (formats resolve lazily). */
export function liteFormats(...translators: FormatTranslator[]): FormatRegistry & { add(t: FormatTranslator, as?: string): void } {
  const byKey = new Map(translators.map((t) => [t.format, t]));
  return {
    get: (format) => byKey.get(format),
    list: () => [...byKey.keys()],
    add: (t, as = t.format) => void byKey.set(as, t),
  };
}
