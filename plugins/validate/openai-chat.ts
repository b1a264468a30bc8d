/**
 * Validation of OpenAI chat completions requests: the shape (openai-chat.schema.json), then the
 * rules a schema cannot say, which OpenAI itself enforces. Catching them here gives the client
 * a clear 400 before any backend is paid for, whichever provider the request would have reached.
 */
import type { GatewayError } from "../../core/index.js";
import schema from "./openai-chat.schema.json" with { type: "json" };
import { compileWireSchema, invalidField, type RequestCheck, type ValidationLimits } from "./wire-schema.js";

/** The parts of a request the rules read; the schema has already checked their types. */
interface ChatRequest {
  n?: number | null;
  stream?: boolean | null;
  stream_options?: object | null;
  tools?: Array<{ type: "function"; function: { name: string } } | { type: "custom"; custom: { name: string } }>;
  tool_choice?: string | { type: "function"; function: { name: string } } | { type: "custom"; custom: { name: string } } | { type: "allowed_tools" };
  messages: ChatMessage[];
}

type ChatMessage =
  | { role: "system" | "developer" | "user" }
  | { role: "assistant"; content?: unknown; tool_calls?: Array<{ id: string }>; function_call?: unknown; audio?: unknown }
  | { role: "tool"; tool_call_id: string };

export function createOpenAiChatCheck(limits: ValidationLimits): RequestCheck {
  const checkShape = compileWireSchema(schema);
  return (body) => checkShape(body) ?? checkRules(body as unknown as ChatRequest, limits);
}

function checkRules(req: ChatRequest, limits: ValidationLimits): GatewayError | undefined {
  if (typeof req.n === "number" && req.n > limits.maxN) {
    return invalidField(`n must be at most ${limits.maxN} on this gateway (got ${req.n})`, "n", "invalid_value");
  }
  if (req.stream_options != null && req.stream !== true) {
    return invalidField("stream_options is only allowed when stream is true", "stream_options", "invalid_value");
  }
  return checkTools(req) ?? checkMessages(req.messages);
}

function checkTools(req: ChatRequest): GatewayError | undefined {
  const names = new Set<string>();
  for (const [i, tool] of (req.tools ?? []).entries()) {
    const name = tool.type === "function" ? tool.function.name : tool.custom.name;
    if (names.has(name)) return invalidField(`tools[${i}] repeats the tool name "${name}"`, `tools[${i}].${tool.type}.name`, "invalid_value");
    names.add(name);
  }
  const choice = req.tool_choice;
  if (choice === undefined || choice === "none" || choice === "auto") return undefined;
  if (names.size === 0) return invalidField("tool_choice requires tools", "tool_choice", "invalid_value");
  if (typeof choice === "object" && (choice.type === "function" || choice.type === "custom")) {
    const name = choice.type === "function" ? choice.function.name : choice.custom.name;
    if (!names.has(name)) {
      return invalidField(`tool_choice names the tool "${name}", which is not in tools`, `tool_choice.${choice.type}.name`, "invalid_value");
    }
  }
  return undefined;
}

function checkMessages(messages: ChatMessage[]): GatewayError | undefined {
  // A tool message answers a call of the assistant message just before it (other tool replies may
  // sit in between). Providers reject orphans; Anthropic and Gemini could not even express one.
  let openCalls = new Set<string>();
  for (const [i, m] of messages.entries()) {
    if (m.role === "assistant") {
      const hasContent = m.content !== undefined && m.content !== null;
      if (!hasContent && !m.tool_calls?.length && m.function_call == null && m.audio == null) {
        return invalidField(`messages[${i}] is an assistant message without content or tool_calls`, `messages[${i}].content`, "missing_required_parameter");
      }
      openCalls = new Set((m.tool_calls ?? []).map((c) => c.id));
    } else if (m.role === "tool") {
      if (!openCalls.has(m.tool_call_id)) {
        return invalidField(
          `messages[${i}].tool_call_id does not answer a tool call of the preceding assistant message`,
          `messages[${i}].tool_call_id`,
          "invalid_value",
        );
      }
    } else {
      openCalls = new Set();
    }
  }
  return undefined;
}
