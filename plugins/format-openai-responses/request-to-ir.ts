/**
 * OpenAI Responses request -> IR, for stateless use: the whole conversation comes in `input`.
 * Consecutive assistant-side items (reasoning, assistant message, function calls) form one IR
 * assistant message; `function_call_output` items become tool messages. What only a stateful
 * server can honour (`previous_response_id`, `conversation`, `store: true`…) goes to `extra`.
 */
import type { IrAudioPart, IrDocumentPart, IrImagePart, IrMessage, IrPart, IrReasoning, IrRequest, IrResponseFormat, IrTextPart, IrTool, IrToolChoice } from "../../core/index.js";
import { expectArray, expectObject, expectString, invalidField, optBoolean, optInteger, optNumber, optString, optStringRecord, unsupportedField } from "../../lib/wire/fields.js";
import { isObject, type WireObject } from "../../core/index.js";
import { audioMediaTypeOf, parseDataUrl } from "../../lib/wire/media.js";

const MAPPED_FIELDS = new Set([
  "top_logprobs",
  "model",
  "input",
  "instructions",
  "stream",
  "stream_options",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "temperature",
  "top_p",
  "max_output_tokens",
  "reasoning",
  "text",
  "metadata",
  "user",
  "store",
  "include",
]);
const EFFORTS = new Set(["minimal", "low", "medium", "high"]);
/** `include` values this translator honours by itself: reasoning signatures travel as encrypted content. */
const HONOURED_INCLUDES = new Set(["reasoning.encrypted_content", "message.output_text.logprobs"]);

export function peekResponses(body: unknown): { model: string | undefined; stream: boolean } {
  if (!isObject(body)) return { model: undefined, stream: false };
  return { model: typeof body.model === "string" ? body.model : undefined, stream: body.stream === true };
}

export function responsesRequestToIr(body: unknown): IrRequest {
  const wire = expectObject(body, "body");
  const model = wire.model;
  if (typeof model !== "string" || model.length === 0) throw invalidField("model", "must be a non-empty string");
  const instructions = optString(wire, "instructions");
  const messages: IrMessage[] = [...(instructions === undefined || instructions.length === 0 ? [] : [{ role: "system" as const, content: [{ type: "text" as const, text: instructions }] }]), ...readInput(wire.input)];
  const ir: IrRequest = { model, messages, stream: optBoolean(wire, "stream") ?? false };
  const extra: WireObject = {};
  readTools(wire, ir, extra);
  readToolChoice(wire, ir, extra);
  const set = <K extends keyof IrRequest>(key: K, v: IrRequest[K] | undefined) => {
    if (v !== undefined) ir[key] = v;
  };
  set("parallelToolCalls", optBoolean(wire, "parallel_tool_calls"));
  set("temperature", optNumber(wire, "temperature"));
  set("topP", optNumber(wire, "top_p"));
  set("maxTokens", optInteger(wire, "max_output_tokens", 1));
  set("user", optString(wire, "user"));
  set("metadata", optStringRecord(wire, "metadata"));
  readReasoning(wire, ir, extra);
  readText(wire, ir, extra);
  // Stateless already; only a request to keep the response needs a policy decision.
  if (optBoolean(wire, "store") === true) extra.store = true;
  if (Array.isArray(wire.include) && wire.include.includes("message.output_text.logprobs")) ir.topLogprobs = optInteger(wire, "top_logprobs", 0) ?? 0;
  if (wire.include !== undefined && wire.include !== null) {
    const other = expectArray(wire.include, "include").filter((v, i) => !HONOURED_INCLUDES.has(expectString(v, `include[${i}]`)));
    if (other.length > 0) extra.include = other;
  }
  for (const [key, value] of Object.entries(wire)) {
    if (!MAPPED_FIELDS.has(key) && value !== null && value !== undefined) extra[key] = value;
  }
  if (Object.keys(extra).length > 0) ir.extra = extra;
  return ir;
}

function readInput(value: unknown): IrMessage[] {
  if (typeof value === "string") return [{ role: "user", content: [{ type: "text", text: value }] }];
  const items = expectArray(value, "input");
  if (items.length === 0) throw invalidField("input", "must contain at least one item");
  const out: IrMessage[] = [];
  const toolNames = new Map<string, string>();
  /** The assistant message consecutive assistant-side items join. */
  let assistant: IrPart[] | undefined;
  const assistantParts = (): IrPart[] => {
    if (assistant === undefined) {
      assistant = [];
      out.push({ role: "assistant", content: assistant });
    }
    return assistant;
  };
  items.forEach((raw, i) => {
    const at = `input[${i}]`;
    const item = expectObject(raw, at);
    const type = item.type ?? "message";
    switch (type) {
      case "message": {
        const role = item.role;
        if (role === "assistant") {
          assistantParts().push(...readAssistantContent(item.content, `${at}.content`));
          return;
        }
        assistant = undefined;
        if (role === "system" || role === "developer") out.push({ role: "system", content: readUserContent(item.content, `${at}.content`, true) as IrTextPart[] });
        else if (role === "user") out.push({ role: "user", content: readUserContent(item.content, `${at}.content`, false) });
        else throw invalidField(`${at}.role`, "must be user, assistant, system or developer");
        return;
      }
      case "reasoning":
        assistantParts().push(readReasoningItem(item, at));
        return;
      case "function_call": {
        const id = expectString(item.call_id, `${at}.call_id`);
        const name = expectString(item.name, `${at}.name`);
        toolNames.set(id, name);
        assistantParts().push({ type: "tool_call", id, name, arguments: expectString(item.arguments, `${at}.arguments`) });
        return;
      }
      case "function_call_output": {
        assistant = undefined;
        const toolCallId = expectString(item.call_id, `${at}.call_id`);
        const name = toolNames.get(toolCallId);
        out.push({
          role: "tool",
          content: [{ type: "tool_result", toolCallId, ...(name === undefined ? {} : { name }), content: readOutput(item.output, `${at}.output`) }],
        });
        return;
      }
      default:
        if (typeof type !== "string") throw invalidField(`${at}.type`, "must be a string");
        throw unsupportedField(`${at}.type`, `${type} items cannot be translated to other formats (this gateway serves the Responses API statelessly)`);
    }
  });
  return out;
}

function readImage(part: WireObject, at: string): IrImagePart {
  if (part.image_url === undefined || part.image_url === null) throw unsupportedField(`${at}.image_url`, "images by file_id cannot be translated to other formats");
  const url = expectString(part.image_url, `${at}.image_url`);
  const match = /^data:([^;,]+);base64,/.exec(url);
  const image: IrImagePart = { type: "image", source: match === null ? { kind: "url", url } : { kind: "base64", mediaType: match[1]!, data: url.slice(match[0].length) } };
  const detail = optString(part, "detail", `${at}.detail`);
  if (detail === "low" || detail === "high" || detail === "auto") image.detail = detail;
  else if (detail !== undefined) throw invalidField(`${at}.detail`, "must be auto, low or high");
  return image;
}

/** `input_file`: inline bytes as a data URL, a URL, or an uploaded file's id; `filename` as the title. */
function readFile(part: WireObject, at: string): IrDocumentPart {
  const fileData = optString(part, "file_data", `${at}.file_data`);
  const fileUrl = optString(part, "file_url", `${at}.file_url`);
  const fileId = optString(part, "file_id", `${at}.file_id`);
  let doc: IrDocumentPart;
  if (fileData !== undefined) doc = { type: "document", source: { kind: "base64", ...(parseDataUrl(fileData) ?? { mediaType: "application/pdf", data: fileData }) } };
  else if (fileUrl !== undefined) doc = { type: "document", source: { kind: "url", url: fileUrl } };
  else if (fileId !== undefined) doc = { type: "document", source: { kind: "file", fileId } };
  else throw invalidField(at, "input_file needs file_data, file_url or file_id");
  const filename = optString(part, "filename", `${at}.filename`);
  if (filename !== undefined) doc.title = filename;
  return doc;
}

function readAudio(part: WireObject, at: string): IrAudioPart {
  const audio = expectObject(part.input_audio, `${at}.input_audio`);
  const mediaType = audioMediaTypeOf(expectString(audio.format, `${at}.input_audio.format`));
  if (mediaType === undefined) throw invalidField(`${at}.input_audio.format`, "must be wav or mp3");
  return { type: "audio", mediaType, data: expectString(audio.data, `${at}.input_audio.data`) };
}

function readUserContent(value: unknown, at: string, textOnly: boolean): IrPart[] {
  if (typeof value === "string") return [{ type: "text", text: value }];
  return expectArray(value, at).map((raw, i): IrPart => {
    const part = expectObject(raw, `${at}[${i}]`);
    if (part.type === "input_text") return { type: "text", text: expectString(part.text, `${at}[${i}].text`) };
    if (part.type === "input_image" && !textOnly) return readImage(part, `${at}[${i}]`);
    if (part.type === "input_file" && !textOnly) return readFile(part, `${at}[${i}]`);
    if (part.type === "input_audio" && !textOnly) return readAudio(part, `${at}[${i}]`);
    throw invalidField(`${at}[${i}].type`, textOnly ? "must be input_text" : "must be input_text, input_image, input_file or input_audio");
  });
}

function readAssistantContent(value: unknown, at: string): IrPart[] {
  if (typeof value === "string") return value.length === 0 ? [] : [{ type: "text", text: value }];
  return expectArray(value, at).map((raw, i): IrPart => {
    const part = expectObject(raw, `${at}[${i}]`);
    if (part.type === "output_text" || part.type === "input_text") return { type: "text", text: expectString(part.text, `${at}[${i}].text`) };
    if (part.type === "refusal") return { type: "text", text: expectString(part.refusal, `${at}[${i}].refusal`) };
    throw invalidField(`${at}[${i}].type`, "must be output_text or refusal");
  });
}

/** A reasoning item: summary paragraphs (or raw reasoning text) as thinking, encrypted content as its signature. */
export function readReasoningItem(item: WireObject, at: string): IrPart {
  const texts = (key: "summary" | "content") =>
    item[key] === undefined || item[key] === null
      ? []
      : expectArray(item[key], `${at}.${key}`).map((p, j) => expectString(expectObject(p, `${at}.${key}[${j}]`).text, `${at}.${key}[${j}].text`));
  const summary = texts("summary");
  const text = (summary.length > 0 ? summary : texts("content")).join("\n\n");
  const signature = optString(item, "encrypted_content", `${at}.encrypted_content`);
  return signature === undefined ? { type: "thinking", text } : { type: "thinking", text, signature };
}

function readOutput(value: unknown, at: string): Array<IrTextPart | IrImagePart> {
  if (typeof value === "string") return value.length === 0 ? [] : [{ type: "text", text: value }];
  return expectArray(value, at).map((raw, i) => {
    const part = expectObject(raw, `${at}[${i}]`);
    if (part.type === "input_text") return { type: "text" as const, text: expectString(part.text, `${at}[${i}].text`) };
    if (part.type === "input_image") return readImage(part, `${at}[${i}]`);
    throw unsupportedField(`${at}[${i}].type`, `${String(part.type)} output cannot be translated to other formats`);
  });
}

function readTools(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  if (wire.tools === undefined || wire.tools === null) return;
  const tools: IrTool[] = [];
  const hosted: unknown[] = [];
  expectArray(wire.tools, "tools").forEach((raw, i) => {
    const tool = expectObject(raw, `tools[${i}]`);
    if (tool.type !== "function") {
      hosted.push(tool); // web_search, file_search, mcp, custom…: run by OpenAI or shaped unlike functions
      return;
    }
    const out: IrTool = {
      name: expectString(tool.name, `tools[${i}].name`),
      parameters: tool.parameters == null ? { type: "object", properties: {} } : expectObject(tool.parameters, `tools[${i}].parameters`),
      // The Responses API makes function tools strict unless told otherwise.
      strict: optBoolean(tool, "strict", `tools[${i}].strict`) ?? true,
    };
    const description = optString(tool, "description", `tools[${i}].description`);
    if (description !== undefined) out.description = description;
    tools.push(out);
  });
  if (tools.length > 0) ir.tools = tools;
  if (hosted.length > 0) extra.tools = hosted;
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
  if (obj.type === "function") ir.toolChoice = { type: "tool", name: expectString(obj.name, "tool_choice.name") };
  else extra.tool_choice = choice; // allowed_tools, hosted tools, mcp, custom
}

function readReasoning(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  if (wire.reasoning === undefined || wire.reasoning === null) return;
  const config = expectObject(wire.reasoning, "reasoning");
  const reasoning: IrReasoning = {};
  const unmapped: WireObject = {};
  const effort = optString(config, "effort", "reasoning.effort");
  if (effort !== undefined) {
    if (EFFORTS.has(effort)) reasoning.effort = effort as NonNullable<IrReasoning["effort"]>;
    else if (effort === "none") reasoning.budgetTokens = 0;
    else unmapped.effort = effort;
  }
  const summary = optString(config, "summary", "reasoning.summary") ?? optString(config, "generate_summary", "reasoning.generate_summary");
  if (summary !== undefined) reasoning.includeThoughts = true;
  if (Object.keys(unmapped).length > 0) extra.reasoning = unmapped;
  ir.reasoning = reasoning;
}

function readText(wire: WireObject, ir: IrRequest, extra: WireObject): void {
  if (wire.text === undefined || wire.text === null) return;
  const text = expectObject(wire.text, "text");
  if (text.format !== undefined && text.format !== null) {
    const format = expectObject(text.format, "text.format");
    let out: IrResponseFormat;
    if (format.type === "text") out = { type: "text" };
    else if (format.type === "json_object") out = { type: "json_object" };
    else if (format.type === "json_schema") {
      out = { type: "json_schema", name: expectString(format.name, "text.format.name"), schema: expectObject(format.schema, "text.format.schema") };
      const strict = optBoolean(format, "strict", "text.format.strict");
      if (strict !== undefined) out.strict = strict;
      const description = optString(format, "description", "text.format.description");
      if (description !== undefined) out.description = description;
    } else throw invalidField("text.format.type", "must be text, json_object or json_schema");
    ir.responseFormat = out;
  }
  const rest = Object.fromEntries(Object.entries(text).filter(([k, v]) => k !== "format" && v !== null && v !== undefined));
  if (Object.keys(rest).length > 0) extra.text = rest; // verbosity
}
