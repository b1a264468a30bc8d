/**
 * What an upstream of each format received, read from its own wire shape: the system prompt,
 * user text, tools and limits of a request, and the tool calls and results of a conversation.
 * The format-matrix tests compare these across formats to check the gateway's translations.
 */
import type { FormatRequest } from "./upstream-formats.js";

/** What an upstream of each format was asked, read from its own wire shape. */
export interface Asked {
  model: string | undefined;
  system: string | undefined;
  user: string | undefined;
  tools: { name: string; description: string | undefined; parameters: unknown }[];
  maxTokens: number | undefined;
  stream: boolean;
}

const textOf = (content: unknown): string | undefined => {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  return content.map((p: { text?: string }) => p.text ?? "").join("");
};

export function readAsked(req: FormatRequest): Asked {
  const b = req.body;
  switch (req.format) {
    case "openai-chat": {
      const messages: { role: string; content: unknown }[] = b.messages ?? [];
      return {
        model: b.model,
        system: textOf(messages.find((m) => m.role === "system" || m.role === "developer")?.content),
        user: textOf(messages.findLast((m) => m.role === "user")?.content),
        tools: (b.tools ?? []).map((t: any) => ({ name: t.function.name, description: t.function.description, parameters: t.function.parameters })),
        maxTokens: b.max_tokens ?? b.max_completion_tokens,
        stream: b.stream === true,
      };
    }
    case "openai-responses": {
      const input: { role?: string; content?: unknown }[] = typeof b.input === "string" ? [{ role: "user", content: b.input }] : (b.input ?? []);
      return {
        model: b.model,
        system: b.instructions ?? textOf(input.find((m) => m.role === "system" || m.role === "developer")?.content),
        user: textOf(input.findLast((m) => m.role === "user")?.content),
        tools: (b.tools ?? []).map((t: any) => ({ name: t.name, description: t.description, parameters: t.parameters })),
        maxTokens: b.max_output_tokens,
        stream: b.stream === true,
      };
    }
    case "anthropic-messages":
      return {
        model: b.model,
        system: textOf(b.system),
        user: textOf((b.messages ?? []).findLast((m: { role: string }) => m.role === "user")?.content),
        tools: (b.tools ?? []).map((t: any) => ({ name: t.name, description: t.description, parameters: t.input_schema })),
        maxTokens: b.max_tokens,
        stream: b.stream === true,
      };
    case "gemini":
      return {
        model: req.model,
        system: textOf(b.systemInstruction?.parts),
        user: textOf((b.contents ?? []).findLast((c: { role?: string }) => (c.role ?? "user") === "user")?.parts),
        tools: (b.tools ?? []).flatMap((t: any) => t.functionDeclarations ?? []).map((f: any) => ({ name: f.name, description: f.description, parameters: f.parametersJsonSchema ?? f.parameters })),
        maxTokens: b.generationConfig?.maxOutputTokens,
        stream: req.stream,
      };
  }
}

/** The tool calls and tool results an upstream received, from its own wire shape. */
export interface ToolTurn {
  calls: { id: string | undefined; name: string; args: unknown }[];
  results: { id: string | undefined; name: string | undefined; text: string }[];
}

export function readToolTurn(req: FormatRequest): ToolTurn {
  const b = req.body;
  const turn: ToolTurn = { calls: [], results: [] };
  switch (req.format) {
    case "openai-chat":
      for (const m of b.messages ?? []) {
        for (const c of m.tool_calls ?? []) turn.calls.push({ id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) });
        if (m.role === "tool") turn.results.push({ id: m.tool_call_id, name: undefined, text: textOf(m.content) ?? "" });
      }
      return turn;
    case "openai-responses":
      for (const item of b.input ?? []) {
        if (item.type === "function_call") turn.calls.push({ id: item.call_id, name: item.name, args: JSON.parse(item.arguments) });
        if (item.type === "function_call_output") turn.results.push({ id: item.call_id, name: undefined, text: textOf(item.output) ?? "" });
      }
      return turn;
    case "anthropic-messages":
      for (const m of b.messages ?? []) {
        if (!Array.isArray(m.content)) continue;
        for (const block of m.content) {
          if (block.type === "tool_use") turn.calls.push({ id: block.id, name: block.name, args: block.input });
          if (block.type === "tool_result") turn.results.push({ id: block.tool_use_id, name: undefined, text: textOf(block.content) ?? "" });
        }
      }
      return turn;
    case "gemini":
      for (const c of b.contents ?? []) {
        for (const part of c.parts ?? []) {
          if (part.functionCall) turn.calls.push({ id: part.functionCall.id, name: part.functionCall.name, args: part.functionCall.args });
          const fr = part.functionResponse;
          if (fr) turn.results.push({ id: fr.id, name: fr.name, text: typeof fr.response?.result === "string" ? fr.response.result : JSON.stringify(fr.response) });
        }
      }
      return turn;
  }
}
