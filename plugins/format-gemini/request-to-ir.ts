/**
 * Gemini GenerateContentRequest -> IR. The model and the streaming flag come from the route
 * (`/v1beta/models/:target`, target = `gemini-2.0-flash:streamGenerateContent`), not the body.
 * Function calls without ids get ids here, and function responses are matched to them by name.
 */
import { GatewayError, type InboundRequestInfo, type IrMessage, type IrPart, type IrReasoning, type IrRequest, type IrTool, type IrToolResultPart } from "../../core/index.js";
import { modelPartToIr, mediaOf, type Fail } from "./parts.js";
import { expectArray, expectObject, expectString, invalidField, optBoolean, optInteger, optNumber, optString, unsupportedField } from "../../lib/wire/fields.js";
import { isObject, type WireObject } from "../../core/index.js";
import { field, keyOf } from "./proto-json.js";

export const GEMINI_SCHEMA_NAME = "response";

const METHODS = new Set(["generateContent", "streamGenerateContent"]);
const MAPPED_FIELDS = new Set(["contents", "systemInstruction", "system_instruction", "tools", "toolConfig", "tool_config", "generationConfig", "generation_config", "model"]);
const MAPPED_GENERATION = new Set([
  "temperature",
  "topP",
  "topK",
  "maxOutputTokens",
  "stopSequences",
  "candidateCount",
  "seed",
  "presencePenalty",
  "frequencyPenalty",
  "responseMimeType",
  "responseSchema",
  "responseJsonSchema",
  "thinkingConfig",
  "responseLogprobs",
  "logprobs",
]);
const LEVELS: Record<string, NonNullable<IrReasoning["effort"]>> = { MINIMAL: "minimal", LOW: "low", MEDIUM: "medium", HIGH: "high" };

const failRequest: Fail = (param, message) => invalidField(param, message);

/** `gemini-2.0-flash:streamGenerateContent` -> model and method; undefined parts when absent. */
export function parseTarget(info: InboundRequestInfo): { model: string | undefined; method: string | undefined } {
  const target = info.params.target;
  if (typeof target !== "string") return { model: undefined, method: undefined };
  const colon = target.lastIndexOf(":");
  const model = (colon === -1 ? target : target.slice(0, colon)).replace(/^models\//, "");
  return { model: model.length > 0 ? model : undefined, method: colon === -1 ? undefined : target.slice(colon + 1) };
}

/**
 * The model and method of a generate request, refused in Google's terms when the path names no
 * model or another method (`:countTokens`, `:embedContent`, a bare model). Checked in peek, which
 * runs for every request before anything else: a passed-through request never reaches
 * requestToIr, and would otherwise go upstream as a billed generateContent.
 */
function generateTarget(info: InboundRequestInfo): { model: string; method: string } {
  const { model, method } = parseTarget(info);
  if (model === undefined) throw invalidField("target", "the path must name a model, as in models/gemini-2.0-flash:generateContent");
  if (method === undefined || !METHODS.has(method)) {
    throw new GatewayError({ status: 404, type: "not_found", code: "unsupported_method", param: "target", message: `target: method ${method ?? "(none)"} is not served; use generateContent or streamGenerateContent` });
  }
  return { model, method };
}

/**
 * A counting route names its model alone (`/v1beta/models/:model\\:countTokens`), a generate
 * route the model and its method (`:target`): only the first is read as a count, so a
 * `:countTokens` call on a generate route is still refused rather than sent as a generate.
 */
function countModel(info: InboundRequestInfo): string | undefined {
  const model = info.params.model;
  return info.params.target === undefined && typeof model === "string" && model.length > 0 ? model.replace(/^models\//, "") : undefined;
}

export function peekGemini(info: InboundRequestInfo): { model: string | undefined; stream: boolean } {
  const counted = countModel(info);
  if (counted !== undefined) return { model: counted, stream: false };
  // Routes of another kind (embeddings, count-tokens) name their own methods: their endpoint checks them.
  if (info.endpoint !== undefined && info.endpoint !== "generate") return { model: parseTarget(info).model, stream: false };
  const { model, method } = generateTarget(info);
  return { model, stream: method === "streamGenerateContent" };
}

export function geminiRequestToIr(body: unknown, info: InboundRequestInfo): IrRequest {
  const counted = countModel(info);
  const { model, method } = counted === undefined ? generateTarget(info) : { model: counted, method: "countTokens" };
  const stream = method === "streamGenerateContent";
  // Without alt=sse Google streams one JSON array, a framing this gateway does not write.
  if (stream && info.query.alt !== "sse") throw invalidField("alt", "streamGenerateContent is served as server-sent events only: add ?alt=sse");
  let wire = expectObject(body, "body");
  // countTokens takes the request either as it is or wrapped, with its model, in generateContentRequest.
  if (counted !== undefined && isObject(wire.generateContentRequest)) wire = wire.generateContentRequest;
  const messages = [...readSystem(field(wire, "systemInstruction")), ...readContents(wire.contents)];
  const ir: IrRequest = { model, messages, stream };
  const extra: WireObject = {};
  readTools(wire, ir, extra);
  readToolConfig(wire, ir, extra);
  readGenerationConfig(wire, ir, extra);
  for (const [key, value] of Object.entries(wire)) {
    if (!MAPPED_FIELDS.has(key) && value !== null && value !== undefined) extra[key] = value;
  }
  if (Object.keys(extra).length > 0) ir.extra = extra;
  return ir;
}

function readSystem(value: unknown): IrMessage[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [{ role: "system", content: [{ type: "text", text: value }] }];
  const content = expectObject(value, "systemInstruction");
  const parts = expectArray(content.parts, "systemInstruction.parts").map((raw, i) => {
    const part = expectObject(raw, `systemInstruction.parts[${i}]`);
    return { type: "text" as const, text: expectString(part.text, `systemInstruction.parts[${i}].text`) };
  });
  return parts.length === 0 ? [] : [{ role: "system", content: parts }];
}

function readContents(value: unknown): IrMessage[] {
  const list = expectArray(value, "contents");
  if (list.length === 0) throw invalidField("contents", "must contain at least one content");
  const out: IrMessage[] = [];
  /** Calls of the latest model turn not answered yet, by name, for responses that carry no id. */
  let pending = new Map<string, string[]>();
  list.forEach((raw, i) => {
    const at = `contents[${i}]`;
    const content = expectObject(raw, at);
    const parts = expectArray(content.parts, `${at}.parts`);
    const role = content.role ?? "user";
    if (role === "model") {
      pending = new Map();
      const irParts: IrPart[] = [];
      parts.forEach((p, j) => {
        for (const part of modelPartToIr(p, `${at}.parts[${j}]`, () => `call_${i}_${j}`, failRequest)) {
          if (part.type === "tool_call") pending.set(part.name, [...(pending.get(part.name) ?? []), part.id]);
          irParts.push(part);
        }
      });
      out.push({ role: "assistant", content: irParts });
    } else if (role === "user" || role === "function") {
      out.push(...readUserTurn(parts, at, pending));
    } else {
      throw invalidField(`${at}.role`, "must be user or model");
    }
  });
  return out;
}

/** Function responses become IR tool messages in place; runs of other parts become user messages. */
function readUserTurn(parts: unknown[], at: string, pending: Map<string, string[]>): IrMessage[] {
  const out: IrMessage[] = [];
  let user: IrPart[] | undefined;
  parts.forEach((raw, j) => {
    const partAt = `${at}.parts[${j}]`;
    const part = expectObject(raw, partAt);
    const response = field(part, "functionResponse");
    if (response !== undefined && response !== null) {
      user = undefined;
      out.push({ role: "tool", content: [readFunctionResponse(expectObject(response, `${partAt}.functionResponse`), `${partAt}.functionResponse`, pending)] });
      return;
    }
    let irPart: IrPart;
    if (typeof part.text === "string") irPart = { type: "text", text: part.text };
    else {
      const image = mediaOf(part, partAt, (param, message) => unsupportedField(param, message));
      if (image === undefined) throw unsupportedField(partAt, `part kind ${Object.keys(part).join(", ") || "(empty)"} cannot be translated to other formats`);
      irPart = image;
    }
    if (user === undefined) {
      user = [];
      out.push({ role: "user", content: user });
    }
    user.push(irPart);
  });
  if (out.length === 0) out.push({ role: "user", content: [] });
  return out;
}

function readFunctionResponse(fr: WireObject, at: string, pending: Map<string, string[]>): IrToolResultPart {
  const name = expectString(fr.name, `${at}.name`);
  let id = optString(fr, "id", `${at}.id`);
  const queue = pending.get(name) ?? [];
  if (id === undefined) id = queue.shift() ?? `call_${name}`;
  else if (queue.includes(id)) queue.splice(queue.indexOf(id), 1);
  const response = fr.response === undefined || fr.response === null ? {} : expectObject(fr.response, `${at}.response`);
  const keys = Object.keys(response);
  const part: IrToolResultPart = { type: "tool_result", toolCallId: id, name, content: [] };
  // `{result}` and `{error}` are the conventions Google's own examples and SDKs use for plain text.
  if (keys.length === 1 && typeof response.result === "string") {
    if (response.result.length > 0) part.content.push({ type: "text", text: response.result });
  } else if (keys.length === 1 && typeof response.error === "string") {
    part.isError = true;
    if (response.error.length > 0) part.content.push({ type: "text", text: response.error });
  } else {
    part.content.push({ type: "text", text: JSON.stringify(response) });
  }
  return part;
}

/** Gemini's OpenAPI-style schemas spell types in capitals (`OBJECT`); JSON Schema wants them lower-case. */
function jsonSchemaOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchemaOf);
  if (!isObject(schema)) return schema;
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === "type" && typeof v === "string" ? v.toLowerCase() : jsonSchemaOf(v)]));
}

function readTools(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  const value = wire.tools;
  if (value === undefined || value === null) return;
  const tools: IrTool[] = [];
  const builtIn: unknown[] = [];
  expectArray(value, "tools").forEach((raw, i) => {
    const tool = expectObject(raw, `tools[${i}]`);
    const declarations = field(tool, "functionDeclarations");
    if (declarations === undefined || declarations === null) {
      builtIn.push(tool); // googleSearch, codeExecution, urlContext…: Google-side tools
      return;
    }
    expectArray(declarations, `tools[${i}].functionDeclarations`).forEach((d, j) => {
      const at = `tools[${i}].functionDeclarations[${j}]`;
      const decl = expectObject(d, at);
      const jsonSchema = field(decl, "parametersJsonSchema");
      const schema = jsonSchema ?? (decl.parameters === undefined || decl.parameters === null ? undefined : jsonSchemaOf(decl.parameters));
      const out: IrTool = { name: expectString(decl.name, `${at}.name`), parameters: schema === undefined || schema === null ? { type: "object", properties: {} } : expectObject(schema, `${at}.parameters`) };
      const description = optString(decl, "description", `${at}.description`);
      if (description !== undefined) out.description = description;
      tools.push(out);
    });
  });
  if (tools.length > 0) ir.tools = tools;
  if (builtIn.length > 0) extra.tools = builtIn;
}

function readToolConfig(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  const value = field(wire, "toolConfig");
  if (value === undefined || value === null) return;
  const config = expectObject(value, "toolConfig");
  const calling = field(config, "functionCallingConfig");
  if (calling === undefined || calling === null || Object.keys(config).length > 1) {
    extra.toolConfig = config; // retrievalConfig and the like
    if (calling === undefined || calling === null) return;
  }
  const fcc = expectObject(calling, "toolConfig.functionCallingConfig");
  const mode = optString(fcc, "mode", "toolConfig.functionCallingConfig.mode") ?? "AUTO";
  const allowedRaw = field(fcc, "allowedFunctionNames");
  const allowed = allowedRaw === undefined || allowedRaw === null ? [] : expectArray(allowedRaw, "toolConfig.functionCallingConfig.allowedFunctionNames").map((n, i) => expectString(n, `toolConfig.functionCallingConfig.allowedFunctionNames[${i}]`));
  if (mode === "AUTO" || mode === "MODE_UNSPECIFIED") ir.toolChoice = { type: "auto" };
  else if (mode === "NONE") ir.toolChoice = { type: "none" };
  else if (mode === "ANY") ir.toolChoice = allowed.length === 1 ? { type: "tool", name: allowed[0]! } : { type: "required" };
  else if (mode === "VALIDATED") extra.toolConfig = config;
  else throw invalidField("toolConfig.functionCallingConfig.mode", "must be AUTO, ANY, NONE or VALIDATED");
  if (mode === "ANY" && allowed.length > 1) extra.toolConfig = config; // a subset of tools has no IR form
}

function readGenerationConfig(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  const value = field(wire, "generationConfig");
  if (value === undefined || value === null) return;
  const config = expectObject(value, "generationConfig");
  const at = (camel: string) => `generationConfig.${camel}`;
  const num = (camel: string) => optNumber(config, keyOf(config, camel), at(camel));
  const int = (camel: string, min: number) => optInteger(config, keyOf(config, camel), min, at(camel));
  const set = <K extends keyof IrRequest>(key: K, v: IrRequest[K] | undefined) => {
    if (v !== undefined) ir[key] = v;
  };
  set("temperature", num("temperature"));
  set("topP", num("topP"));
  set("topK", int("topK", 1));
  set("maxTokens", int("maxOutputTokens", 1));
  set("n", int("candidateCount", 1));
  set("seed", int("seed", Number.MIN_SAFE_INTEGER));
  set("presencePenalty", num("presencePenalty"));
  set("frequencyPenalty", num("frequencyPenalty"));
  const stop = field(config, "stopSequences");
  if (stop !== undefined && stop !== null) ir.stop = expectArray(stop, at("stopSequences")).map((s, i) => expectString(s, `${at("stopSequences")}[${i}]`));
  const mime = optString(config, keyOf(config, "responseMimeType"), at("responseMimeType"));
  const schema = field(config, "responseJsonSchema") ?? jsonSchemaOf(field(config, "responseSchema"));
  if (schema !== undefined && schema !== null) ir.responseFormat = { type: "json_schema", name: GEMINI_SCHEMA_NAME, schema: expectObject(schema, at("responseJsonSchema")) };
  else if (mime === "application/json") ir.responseFormat = { type: "json_object" };
  else if (mime === "text/plain") ir.responseFormat = { type: "text" };
  if (optBoolean(config, keyOf(config, "responseLogprobs"), at("responseLogprobs")) === true) ir.topLogprobs = int("logprobs", 0) ?? 0;
  const thinking = field(config, "thinkingConfig");
  if (thinking !== undefined && thinking !== null) ir.reasoning = readThinkingConfig(expectObject(thinking, at("thinkingConfig")));
  const rest: WireObject = {};
  for (const [key, v] of Object.entries(config)) {
    const camel = key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (!MAPPED_GENERATION.has(camel) && v !== null && v !== undefined) rest[key] = v;
  }
  if (mime !== undefined && mime !== "application/json" && mime !== "text/plain") rest.responseMimeType = mime;
  if (Object.keys(rest).length > 0) extra.generationConfig = rest;
}

function readThinkingConfig(config: WireObject): IrReasoning {
  const reasoning: IrReasoning = {};
  const budget = optInteger(config, keyOf(config, "thinkingBudget"), -1, "generationConfig.thinkingConfig.thinkingBudget");
  // -1 asks for dynamic thinking: reasoning on, amount left to the model.
  if (budget !== undefined && budget >= 0) reasoning.budgetTokens = budget;
  const level = optString(config, keyOf(config, "thinkingLevel"), "generationConfig.thinkingConfig.thinkingLevel");
  if (level !== undefined && LEVELS[level] !== undefined) reasoning.effort = LEVELS[level];
  const include = optBoolean(config, keyOf(config, "includeThoughts"), "generationConfig.thinkingConfig.includeThoughts");
  if (include !== undefined) reasoning.includeThoughts = include;
  return reasoning;
}
