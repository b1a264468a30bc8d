/**
 * OpenAI Chat Completions request -> IR (messages in messages-to-ir.ts). Every field the IR has a place for is checked and mapped;
 * every other field (known ones like `logprobs`, and vendor extensions) goes to `extra` under its
 * wire name so the translate step can drop-and-note or reject it by policy.
 */
import type { IrReasoning, IrRequest, IrResponseFormat, IrTool, IrToolChoice } from "../../core/index.js";
import { readMessages } from "./messages-to-ir.js";
import { expectArray, expectObject, expectString, invalidField, optBoolean, optInteger, optNumber, optString, optStringList, optStringRecord } from "../../lib/wire/fields.js";
import { isObject, type WireObject } from "../../core/index.js";

/** Top-level fields this translator maps into the IR; anything else non-null lands in `extra`. */
const MAPPED_FIELDS = new Set([
  "logprobs",
  "top_logprobs",
  "model",
  "messages",
  "stream",
  "stream_options",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "temperature",
  "top_p",
  "top_k",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "n",
  "response_format",
  "reasoning_effort",
  "user",
  "metadata",
]);

const EFFORTS = new Set(["minimal", "low", "medium", "high"]);

export function peekOpenAiChat(body: unknown): { model: string | undefined; stream: boolean } {
  if (!isObject(body)) return { model: undefined, stream: false };
  return { model: typeof body.model === "string" ? body.model : undefined, stream: body.stream === true };
}

export function openAiChatRequestToIr(body: unknown): IrRequest {
  const wire = expectObject(body, "body");
  const model = wire.model;
  if (typeof model !== "string" || model.length === 0) throw invalidField("model", "must be a non-empty string");
  const stream = optBoolean(wire, "stream") ?? false;
  const ir: IrRequest = { model, messages: readMessages(wire.messages), stream };

  if (stream) {
    const options = wire.stream_options;
    if (options !== undefined && options !== null) {
      const includeUsage = optBoolean(expectObject(options, "stream_options"), "include_usage", "stream_options.include_usage");
      if (includeUsage) ir.streamUsage = true;
    }
  }
  const extra: WireObject = {};
  readTools(wire, ir, extra);
  readToolChoice(wire, ir, extra);
  set(ir, "parallelToolCalls", optBoolean(wire, "parallel_tool_calls"));
  set(ir, "temperature", optNumber(wire, "temperature"));
  set(ir, "topP", optNumber(wire, "top_p"));
  set(ir, "topK", optInteger(wire, "top_k", 1));
  // `max_completion_tokens` is the current name; `max_tokens` the one compatible servers know.
  set(ir, "maxTokens", optInteger(wire, "max_completion_tokens", 1) ?? optInteger(wire, "max_tokens", 1));
  set(ir, "stop", optStringList(wire, "stop"));
  set(ir, "seed", optInteger(wire, "seed", Number.MIN_SAFE_INTEGER));
  set(ir, "presencePenalty", optNumber(wire, "presence_penalty"));
  set(ir, "frequencyPenalty", optNumber(wire, "frequency_penalty"));
  set(ir, "n", optInteger(wire, "n", 1));
  set(ir, "responseFormat", readResponseFormat(wire.response_format));
  readReasoning(wire, ir, extra);
  if (optBoolean(wire, "logprobs") === true) ir.topLogprobs = optInteger(wire, "top_logprobs", 0) ?? 0;
  set(ir, "user", optString(wire, "user"));
  set(ir, "metadata", optStringRecord(wire, "metadata"));

  for (const [key, value] of Object.entries(wire)) {
    if (!MAPPED_FIELDS.has(key) && value !== null && value !== undefined) extra[key] = value;
  }
  if (Object.keys(extra).length > 0) ir.extra = extra;
  return ir;
}

function set<K extends keyof IrRequest>(ir: IrRequest, key: K, value: IrRequest[K] | undefined): void {
  if (value !== undefined) ir[key] = value;
}


function readTools(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  if (wire.tools === undefined || wire.tools === null) return;
  const tools: IrTool[] = [];
  const foreign: unknown[] = [];
  expectArray(wire.tools, "tools").forEach((raw, i) => {
    const tool = expectObject(raw, `tools[${i}]`);
    if (tool.type !== "function") {
      foreign.push(tool);
      return;
    }
    const fn = expectObject(tool.function, `tools[${i}].function`);
    const out: IrTool = {
      name: expectString(fn.name, `tools[${i}].function.name`),
      parameters: fn.parameters == null ? { type: "object", properties: {} } : expectObject(fn.parameters, `tools[${i}].function.parameters`),
    };
    const description = optString(fn, "description", `tools[${i}].function.description`);
    if (description !== undefined) out.description = description;
    const strict = optBoolean(fn, "strict", `tools[${i}].function.strict`);
    if (strict !== undefined) out.strict = strict;
    tools.push(out);
  });
  if (tools.length > 0) ir.tools = tools;
  // Custom (grammar) tools have no IR shape; they travel in `extra` so policy decides.
  if (foreign.length > 0) extra.tools = foreign;
}

function readToolChoice(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  const choice = wire.tool_choice;
  if (choice === undefined || choice === null) return;
  if (choice === "auto" || choice === "none" || choice === "required") {
    ir.toolChoice = { type: choice } as IrToolChoice;
    return;
  }
  if (typeof choice === "string") throw invalidField("tool_choice", "must be none, auto, required or an object");
  const obj = expectObject(choice, "tool_choice");
  if (obj.type === "function") {
    const fn = expectObject(obj.function, "tool_choice.function");
    ir.toolChoice = { type: "tool", name: expectString(fn.name, "tool_choice.function.name") };
    return;
  }
  extra.tool_choice = choice; // allowed_tools, custom: no IR shape
}

function readResponseFormat(value: unknown): IrResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  const format = expectObject(value, "response_format");
  switch (format.type) {
    case "text":
      return { type: "text" };
    case "json_object":
      return { type: "json_object" };
    case "json_schema": {
      const spec = expectObject(format.json_schema, "response_format.json_schema");
      const out: IrResponseFormat = {
        type: "json_schema",
        name: expectString(spec.name, "response_format.json_schema.name"),
        schema: spec.schema == null ? {} : expectObject(spec.schema, "response_format.json_schema.schema"),
      };
      const strict = optBoolean(spec, "strict", "response_format.json_schema.strict");
      if (strict !== undefined) out.strict = strict;
      const description = optString(spec, "description", "response_format.json_schema.description");
      if (description !== undefined) out.description = description;
      return out;
    }
    default:
      throw invalidField("response_format.type", "must be text, json_object or json_schema");
  }
}

function readReasoning(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  const effort = optString(wire, "reasoning_effort");
  if (effort === undefined) return;
  let reasoning: IrReasoning;
  if (EFFORTS.has(effort)) reasoning = { effort: effort as NonNullable<IrReasoning["effort"]> };
  else if (effort === "none") reasoning = { budgetTokens: 0 };
  else {
    extra.reasoning_effort = effort; // xhigh, max…: beyond the IR's scale
    return;
  }
  ir.reasoning = reasoning;
}
