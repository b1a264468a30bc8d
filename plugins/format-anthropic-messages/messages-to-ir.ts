/**
 * Anthropic messages and system prompt -> IR messages. User turns that hold `tool_result` blocks
 * become IR tool messages in place, followed by the rest of the turn; tool results learn their
 * tool's name from the `tool_use` that called it (Gemini needs names).
 */
import type { IrCacheControl, IrDocumentPart, IrImagePart, IrMessage, IrPart, IrTextPart, IrToolResultPart } from "../../core/index.js";
import { expectArray, expectObject, expectString, invalidField, optBoolean, optString, unsupportedField } from "../../lib/wire/fields.js";
import { type WireObject } from "../../core/index.js";

function readCacheControl(block: WireObject, at: string): IrCacheControl | undefined {
  const value = block.cache_control;
  if (value === undefined || value === null) return undefined;
  const cc = expectObject(value, `${at}.cache_control`);
  if (cc.type !== "ephemeral") throw invalidField(`${at}.cache_control.type`, "must be ephemeral");
  const ttl = optString(cc, "ttl", `${at}.cache_control.ttl`);
  return ttl === undefined ? { type: "ephemeral" } : { type: "ephemeral", ttl };
}

export function withCache<T extends { cacheControl?: IrCacheControl }>(part: T, block: WireObject, at: string): T {
  const cc = readCacheControl(block, at);
  if (cc !== undefined) part.cacheControl = cc;
  return part;
}

function readTextBlock(block: WireObject, at: string): IrTextPart {
  return withCache<IrTextPart>({ type: "text", text: expectString(block.text, `${at}.text`) }, block, at);
}

export function readSystem(value: unknown): IrMessage[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value.length === 0 ? [] : [{ role: "system", content: [{ type: "text", text: value }] }];
  const parts = expectArray(value, "system").map((raw, i) => {
    const block = expectObject(raw, `system.${i}`);
    if (block.type !== "text") throw invalidField(`system.${i}.type`, "must be text");
    return readTextBlock(block, `system.${i}`);
  });
  return parts.length === 0 ? [] : [{ role: "system", content: parts }];
}

function readImageBlock(block: WireObject, at: string): IrImagePart {
  const source = expectObject(block.source, `${at}.source`);
  let part: IrImagePart;
  if (source.type === "base64") {
    part = {
      type: "image",
      source: { kind: "base64", mediaType: expectString(source.media_type, `${at}.source.media_type`), data: expectString(source.data, `${at}.source.data`) },
    };
  } else if (source.type === "url") {
    part = { type: "image", source: { kind: "url", url: expectString(source.url, `${at}.source.url`) } };
  } else if (source.type === "file") {
    throw unsupportedField(`${at}.source.type`, "file images cannot be translated to other formats");
  } else {
    throw invalidField(`${at}.source.type`, "must be base64, url or file");
  }
  return withCache(part, block, at);
}

/** A document block: a PDF (base64, URL or Files API id) or plain text (a text source, or content blocks of text). */
function readDocumentBlock(block: WireObject, at: string): IrDocumentPart {
  const source = expectObject(block.source, `${at}.source`);
  let part: IrDocumentPart;
  switch (source.type) {
    case "base64":
      part = { type: "document", source: { kind: "base64", mediaType: expectString(source.media_type, `${at}.source.media_type`), data: expectString(source.data, `${at}.source.data`) } };
      break;
    case "url":
      part = { type: "document", source: { kind: "url", url: expectString(source.url, `${at}.source.url`), mediaType: "application/pdf" } };
      break;
    case "text":
      part = { type: "document", source: { kind: "text", text: expectString(source.data, `${at}.source.data`) } };
      break;
    case "content": {
      const texts = expectArray(source.content, `${at}.source.content`).map((raw, k) => {
        const inner = expectObject(raw, `${at}.source.content.${k}`);
        if (inner.type !== "text") throw unsupported(inner, `${at}.source.content.${k}`);
        return expectString(inner.text, `${at}.source.content.${k}.text`);
      });
      part = { type: "document", source: { kind: "text", text: texts.join("\n\n") } };
      break;
    }
    case "file":
      part = { type: "document", source: { kind: "file", fileId: expectString(source.file_id, `${at}.source.file_id`) } };
      break;
    default:
      throw invalidField(`${at}.source.type`, "must be base64, url, text, content or file");
  }
  const title = optString(block, "title", `${at}.title`);
  if (title !== undefined) part.title = title;
  return withCache(part, block, at);
}

export function readMessages(value: unknown): IrMessage[] {
  const list = expectArray(value, "messages");
  if (list.length === 0) throw invalidField("messages", "must contain at least one message");
  const toolNames = new Map<string, string>();
  const out: IrMessage[] = [];
  list.forEach((raw, i) => {
    const at = `messages.${i}`;
    const msg = expectObject(raw, at);
    const blocks = contentBlocks(msg.content, `${at}.content`);
    switch (msg.role) {
      case "user":
        out.push(...readUserTurn(blocks, `${at}.content`, toolNames));
        break;
      case "assistant":
        out.push({ role: "assistant", content: blocks.map((b, j) => readAssistantBlock(b, `${at}.content.${j}`, toolNames)) });
        break;
      case "system":
        out.push({
          role: "system",
          content: blocks.map((b, j) => {
            if (b.type !== "text") throw invalidField(`${at}.content.${j}.type`, "must be text");
            return readTextBlock(b, `${at}.content.${j}`);
          }),
        });
        break;
      default:
        throw invalidField(`${at}.role`, "must be user or assistant");
    }
  });
  return out;
}

function contentBlocks(value: unknown, at: string): WireObject[] {
  if (typeof value === "string") return [{ type: "text", text: value }];
  return expectArray(value, at).map((b, i) => expectObject(b, `${at}.${i}`));
}

/** Tool results become IR tool messages, each in place; runs of other blocks become user messages. */
function readUserTurn(blocks: WireObject[], at: string, toolNames: Map<string, string>): IrMessage[] {
  const out: IrMessage[] = [];
  let user: IrPart[] | undefined;
  blocks.forEach((block, j) => {
    const blockAt = `${at}.${j}`;
    switch (block.type) {
      case "tool_result":
        user = undefined;
        out.push({ role: "tool", content: [readToolResult(block, blockAt, toolNames)] });
        return;
      case "text":
      case "image":
      case "document": {
        if (user === undefined) {
          user = [];
          out.push({ role: "user", content: user });
        }
        user.push(block.type === "text" ? readTextBlock(block, blockAt) : block.type === "image" ? readImageBlock(block, blockAt) : readDocumentBlock(block, blockAt));
        return;
      }
      default:
        throw unsupported(block, blockAt);
    }
  });
  if (out.length === 0) out.push({ role: "user", content: [] });
  return out;
}

function unsupported(block: WireObject, at: string): Error {
  if (typeof block.type !== "string") return invalidField(`${at}.type`, "must be a string");
  return unsupportedField(`${at}.type`, `${block.type} blocks cannot be translated to other formats`);
}

function readToolResult(block: WireObject, at: string, toolNames: Map<string, string>): IrToolResultPart {
  const toolCallId = expectString(block.tool_use_id, `${at}.tool_use_id`);
  const content: Array<IrTextPart | IrImagePart> = [];
  const raw = block.content;
  if (typeof raw === "string") {
    if (raw.length > 0) content.push({ type: "text", text: raw });
  } else if (raw !== undefined && raw !== null) {
    expectArray(raw, `${at}.content`).forEach((b, k) => {
      const inner = expectObject(b, `${at}.content.${k}`);
      if (inner.type === "text") content.push(readTextBlock(inner, `${at}.content.${k}`));
      else if (inner.type === "image") content.push(readImageBlock(inner, `${at}.content.${k}`));
      else throw unsupported(inner, `${at}.content.${k}`);
    });
  }
  const part: IrToolResultPart = { type: "tool_result", toolCallId, content };
  const name = toolNames.get(toolCallId);
  if (name !== undefined) part.name = name;
  const isError = optBoolean(block, "is_error", `${at}.is_error`);
  if (isError !== undefined) part.isError = isError;
  return withCache(part, block, at);
}

function readAssistantBlock(block: WireObject, at: string, toolNames: Map<string, string>): IrPart {
  switch (block.type) {
    case "text":
      return readTextBlock(block, at);
    case "thinking": {
      const signature = optString(block, "signature", `${at}.signature`);
      const text = expectString(block.thinking, `${at}.thinking`);
      return signature === undefined || signature.length === 0 ? { type: "thinking", text } : { type: "thinking", text, signature };
    }
    case "redacted_thinking":
      return { type: "thinking", text: "", redactedData: expectString(block.data, `${at}.data`) };
    case "tool_use": {
      const id = expectString(block.id, `${at}.id`);
      const name = expectString(block.name, `${at}.name`);
      toolNames.set(id, name);
      return { type: "tool_call", id, name, arguments: JSON.stringify(expectObject(block.input, `${at}.input`)) };
    }
    default:
      throw unsupported(block, at);
  }
}
