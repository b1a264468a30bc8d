/**
 * Anthropic Messages request -> IR (messages in messages-to-ir.ts). Fields the IR has no place for
 * (`container`, `mcp_servers`, server tools…) go to `extra` under their wire names.
 */
import type { IrMessage, IrReasoning, IrRequest, IrTool } from "../../core/index.js";
import { readMessages, readSystem, withCache } from "./messages-to-ir.js";
import { expectArray, expectObject, expectString, invalidField, optBoolean, optInteger, optNumber, optString } from "../../lib/wire/fields.js";
import { isObject, type WireObject } from "../../core/index.js";

const MAPPED_FIELDS = new Set([
  "model",
  "messages",
  "max_tokens",
  "system",
  "metadata",
  "stop_sequences",
  "stream",
  "temperature",
  "top_p",
  "top_k",
  "tools",
  "tool_choice",
  "thinking",
  "output_config",
]);

const EFFORTS = new Set(["low", "medium", "high"]);

/** The schema name the IR needs and Anthropic's `output_config.format` does not have. */
export const ANTHROPIC_SCHEMA_NAME = "response";

export function peekAnthropic(body: unknown): { model: string | undefined; stream: boolean } {
  if (!isObject(body)) return { model: undefined, stream: false };
  return { model: typeof body.model === "string" ? body.model : undefined, stream: body.stream === true };
}

export function anthropicRequestToIr(body: unknown): IrRequest {
  const wire = expectObject(body, "body");
  const model = wire.model;
  if (typeof model !== "string" || model.length === 0) throw invalidField("model", "must be a non-empty string");
  const maxTokens = optInteger(wire, "max_tokens", 1);
  if (maxTokens === undefined) throw invalidField("max_tokens", "is required");
  const messages: IrMessage[] = [...readSystem(wire.system), ...readMessages(wire.messages)];
  const ir: IrRequest = { model, messages, stream: optBoolean(wire, "stream") ?? false, maxTokens };
  const extra: WireObject = {};

  readTools(wire, ir, extra);
  readToolChoice(wire, ir);
  set(ir, "temperature", optNumber(wire, "temperature"));
  set(ir, "topP", optNumber(wire, "top_p"));
  set(ir, "topK", optInteger(wire, "top_k", 1));
  const stop = wire.stop_sequences;
  if (stop !== undefined && stop !== null) ir.stop = expectArray(stop, "stop_sequences").map((s, i) => expectString(s, `stop_sequences.${i}`));
  readMetadata(wire, ir);
  readThinking(wire, ir, extra);
  readOutputConfig(wire, ir, extra);

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
  const server: unknown[] = [];
  expectArray(wire.tools, "tools").forEach((raw, i) => {
    const tool = expectObject(raw, `tools.${i}`);
    // Client tools carry an input_schema; server tools (web_search, bash…) a versioned type instead.
    if ((tool.type !== undefined && tool.type !== null && tool.type !== "custom") || tool.input_schema === undefined) {
      server.push(tool);
      return;
    }
    const out: IrTool = { name: expectString(tool.name, `tools.${i}.name`), parameters: expectObject(tool.input_schema, `tools.${i}.input_schema`) };
    const description = optString(tool, "description", `tools.${i}.description`);
    if (description !== undefined) out.description = description;
    const strict = optBoolean(tool, "strict", `tools.${i}.strict`);
    if (strict !== undefined) out.strict = strict;
    tools.push(withCache(out, tool, `tools.${i}`));
  });
  if (tools.length > 0) ir.tools = tools;
  if (server.length > 0) extra.tools = server;
}

function readToolChoice(wire: WireObject, ir: IrRequest): void {
  if (wire.tool_choice === undefined || wire.tool_choice === null) return;
  const choice = expectObject(wire.tool_choice, "tool_choice");
  switch (choice.type) {
    case "auto":
      ir.toolChoice = { type: "auto" };
      break;
    case "any":
      ir.toolChoice = { type: "required" };
      break;
    case "none":
      ir.toolChoice = { type: "none" };
      break;
    case "tool":
      ir.toolChoice = { type: "tool", name: expectString(choice.name, "tool_choice.name") };
      break;
    default:
      throw invalidField("tool_choice.type", "must be auto, any, tool or none");
  }
  const disable = optBoolean(choice, "disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use");
  if (disable !== undefined) ir.parallelToolCalls = !disable;
}

function readMetadata(wire: WireObject, ir: IrRequest): void {
  if (wire.metadata === undefined || wire.metadata === null) return;
  const metadata = expectObject(wire.metadata, "metadata");
  const rest: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value === null || value === undefined) continue;
    const text = expectString(value, `metadata.${key}`);
    if (key === "user_id") ir.user = text;
    else rest[key] = text;
  }
  if (Object.keys(rest).length > 0) ir.metadata = rest;
}

function readThinking(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  if (wire.thinking === undefined || wire.thinking === null) return;
  const thinking = expectObject(wire.thinking, "thinking");
  const reasoning: IrReasoning = {};
  switch (thinking.type) {
    case "enabled": {
      const budget = optInteger(thinking, "budget_tokens", 0, "thinking.budget_tokens");
      if (budget === undefined) throw invalidField("thinking.budget_tokens", "is required");
      reasoning.budgetTokens = budget;
      break;
    }
    case "disabled":
      ir.reasoning = { budgetTokens: 0 };
      return;
    case "adaptive":
      break;
    default:
      if (typeof thinking.type !== "string") throw invalidField("thinking.type", "must be a string");
      extra.thinking = thinking; // between_tools and later modes have no IR form
      return;
  }
  const display = optString(thinking, "display", "thinking.display");
  if (display === "summarized") reasoning.includeThoughts = true;
  else if (display === "omitted") reasoning.includeThoughts = false;
  ir.reasoning = reasoning;
}

function readOutputConfig(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  if (wire.output_config === undefined || wire.output_config === null) return;
  const config = expectObject(wire.output_config, "output_config");
  const unmapped: WireObject = {};
  const effort = optString(config, "effort", "output_config.effort");
  if (effort !== undefined) {
    if (EFFORTS.has(effort)) ir.reasoning = { ...ir.reasoning, effort: effort as "low" | "medium" | "high" };
    else unmapped.effort = effort;
  }
  if (config.format !== undefined && config.format !== null) {
    const format = expectObject(config.format, "output_config.format");
    if (format.type !== "json_schema") throw invalidField("output_config.format.type", "must be json_schema");
    ir.responseFormat = { type: "json_schema", name: ANTHROPIC_SCHEMA_NAME, schema: expectObject(format.schema, "output_config.format.schema") };
  }
  for (const [key, value] of Object.entries(config)) {
    if (key !== "effort" && key !== "format" && value !== null && value !== undefined) unmapped[key] = value;
  }
  if (Object.keys(unmapped).length > 0) extra.output_config = unmapped;
}
