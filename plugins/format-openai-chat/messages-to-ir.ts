/**
 * OpenAI Chat Completions messages -> IR messages. `system` and `developer` both become IR system
 * messages; tool messages learn their tool's name from the assistant call they answer (Gemini
 * needs names). Content the IR cannot hold (audio, files, legacy function calls) is refused with a
 * 400 naming the part.
 */
import type { IrAudioPart, IrDocumentPart, IrImagePart, IrMessage, IrPart, IrTextPart } from "../../core/index.js";
import { expectArray, expectObject, expectString, invalidField, optString, unsupportedField } from "../../lib/wire/fields.js";
import { type WireObject } from "../../core/index.js";
import { audioMediaTypeOf, parseDataUrl } from "../../lib/wire/media.js";

export function readMessages(value: unknown): IrMessage[] {
  const list = expectArray(value, "messages");
  if (list.length === 0) throw invalidField("messages", "must contain at least one message");
  const toolNames = new Map<string, string>();
  return list.map((raw, i) => readMessage(expectObject(raw, `messages[${i}]`), `messages[${i}]`, toolNames));
}

function readMessage(msg: WireObject, at: string, toolNames: Map<string, string>): IrMessage {
  const role = msg.role;
  const name = optString(msg, "name", `${at}.name`);
  const withName = (m: IrMessage): IrMessage => (name === undefined ? m : { ...m, name });
  switch (role) {
    case "system":
    case "developer":
      return withName({ role: "system", content: readTextContent(msg.content, `${at}.content`) });
    case "user":
      return withName({ role: "user", content: readUserContent(msg.content, `${at}.content`) });
    case "assistant":
      return withName({ role: "assistant", content: readAssistantContent(msg, at, toolNames) });
    case "tool": {
      const toolCallId = expectString(msg.tool_call_id, `${at}.tool_call_id`);
      const toolName = toolNames.get(toolCallId);
      return {
        role: "tool",
        content: [
          {
            type: "tool_result",
            toolCallId,
            ...(toolName === undefined ? {} : { name: toolName }),
            content: readTextContent(msg.content, `${at}.content`),
          },
        ],
      };
    }
    case "function":
      throw unsupportedField(`${at}.role`, "legacy function messages are not supported; use tool messages");
    default:
      throw invalidField(`${at}.role`, "must be one of system, developer, user, assistant, tool");
  }
}

/** System, developer and tool content: a string or text parts only. */
function readTextContent(value: unknown, at: string): IrTextPart[] {
  if (typeof value === "string") return value.length === 0 ? [] : [{ type: "text", text: value }];
  return expectArray(value, at).map((raw, i) => {
    const part = expectObject(raw, `${at}[${i}]`);
    if (part.type !== "text") throw invalidField(`${at}[${i}].type`, "must be text");
    return readTextPart(part, `${at}[${i}]`);
  });
}

function readTextPart(part: WireObject, at: string): IrTextPart {
  const text: IrTextPart = { type: "text", text: expectString(part.text, `${at}.text`) };
  if (part.prompt_cache_breakpoint != null) text.cacheControl = { type: "ephemeral" };
  return text;
}

function readUserContent(value: unknown, at: string): IrPart[] {
  if (typeof value === "string") return [{ type: "text", text: value }];
  return expectArray(value, at).map((raw, i): IrPart => {
    const part = expectObject(raw, `${at}[${i}]`);
    switch (part.type) {
      case "text":
        return readTextPart(part, `${at}[${i}]`);
      case "image_url":
        return readImagePart(part, `${at}[${i}]`);
      case "input_audio":
        return readAudioPart(part, `${at}[${i}]`);
      case "file":
        return readFilePart(part, `${at}[${i}]`);
      default:
        throw invalidField(`${at}[${i}].type`, "must be text, image_url, input_audio or file");
    }
  });
}

function readImagePart(part: WireObject, at: string): IrImagePart {
  const image = expectObject(part.image_url, `${at}.image_url`);
  const url = expectString(image.url, `${at}.image_url.url`);
  const ir: IrImagePart = { type: "image", source: imageSourceOf(url) };
  const detail = optString(image, "detail", `${at}.image_url.detail`);
  if (detail !== undefined) {
    if (detail !== "auto" && detail !== "low" && detail !== "high") throw invalidField(`${at}.image_url.detail`, "must be auto, low or high");
    ir.detail = detail;
  }
  if (part.prompt_cache_breakpoint != null) ir.cacheControl = { type: "ephemeral" };
  return ir;
}

function readAudioPart(part: WireObject, at: string): IrAudioPart {
  const audio = expectObject(part.input_audio, `${at}.input_audio`);
  const format = expectString(audio.format, `${at}.input_audio.format`);
  const mediaType = audioMediaTypeOf(format);
  if (mediaType === undefined) throw invalidField(`${at}.input_audio.format`, "must be wav or mp3");
  return { type: "audio", mediaType, data: expectString(audio.data, `${at}.input_audio.data`) };
}

/** A `file` part: inline bytes as a data URL (`file_data`), or an uploaded file's id. */
function readFilePart(part: WireObject, at: string): IrDocumentPart {
  const file = expectObject(part.file, `${at}.file`);
  const filename = optString(file, "filename", `${at}.file.filename`);
  const fileData = optString(file, "file_data", `${at}.file.file_data`);
  let doc: IrDocumentPart;
  if (fileData !== undefined) {
    // A bare base64 body (no data: prefix) is what older clients sent: a PDF, the only kind chat takes.
    const inline = parseDataUrl(fileData) ?? { mediaType: "application/pdf", data: fileData };
    doc = { type: "document", source: { kind: "base64", ...inline } };
  } else {
    const fileId = optString(file, "file_id", `${at}.file.file_id`);
    if (fileId === undefined) throw invalidField(`${at}.file`, "needs file_data or file_id");
    doc = { type: "document", source: { kind: "file", fileId } };
  }
  if (filename !== undefined) doc.title = filename;
  return doc;
}

/** `data:<type>;base64,<data>` URLs become base64 sources; anything else stays a URL. */
function imageSourceOf(url: string): IrImagePart["source"] {
  const match = /^data:([^;,]+);base64,/.exec(url);
  if (match === null) return { kind: "url", url };
  return { kind: "base64", mediaType: match[1]!, data: url.slice(match[0].length) };
}

function readAssistantContent(msg: WireObject, at: string, toolNames: Map<string, string>): IrPart[] {
  if (msg.function_call != null) throw unsupportedField(`${at}.function_call`, "legacy function calls are not supported; use tool_calls");
  if (msg.audio != null) throw unsupportedField(`${at}.audio`, "audio replies cannot be translated to other formats");
  const parts: IrPart[] = [];
  // Reasoning text as DeepSeek, vLLM and OpenRouter return it; it precedes the answer.
  const reasoning = optString(msg, "reasoning_content", `${at}.reasoning_content`) ?? optString(msg, "reasoning", `${at}.reasoning`);
  if (reasoning !== undefined && reasoning.length > 0) parts.push({ type: "thinking", text: reasoning });
  const content = msg.content;
  if (typeof content === "string") {
    if (content.length > 0) parts.push({ type: "text", text: content });
  } else if (content !== undefined && content !== null) {
    expectArray(content, `${at}.content`).forEach((raw, i) => {
      const part = expectObject(raw, `${at}.content[${i}]`);
      if (part.type === "text") parts.push(readTextPart(part, `${at}.content[${i}]`));
      else if (part.type === "refusal") parts.push({ type: "text", text: expectString(part.refusal, `${at}.content[${i}].refusal`) });
      else throw invalidField(`${at}.content[${i}].type`, "must be text or refusal");
    });
  }
  const refusal = optString(msg, "refusal", `${at}.refusal`);
  if (refusal !== undefined && refusal.length > 0) parts.push({ type: "text", text: refusal });
  const calls = msg.tool_calls;
  if (calls !== undefined && calls !== null) {
    expectArray(calls, `${at}.tool_calls`).forEach((raw, i) => {
      const callAt = `${at}.tool_calls[${i}]`;
      const call = expectObject(raw, callAt);
      if (call.type !== undefined && call.type !== "function") throw unsupportedField(`${callAt}.type`, "only function tool calls can be translated");
      const fn = expectObject(call.function, `${callAt}.function`);
      const id = expectString(call.id, `${callAt}.id`);
      const name = expectString(fn.name, `${callAt}.function.name`);
      toolNames.set(id, name);
      parts.push({ type: "tool_call", id, name, arguments: expectString(fn.arguments, `${callAt}.function.arguments`) });
    });
  }
  return parts;
}
