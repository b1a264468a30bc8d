/**
 * Gemini `Part`s <-> IR parts, shared by requests (history) and responses (candidates).
 *
 * Thought signatures: Gemini puts `thoughtSignature` on the part that follows the model's thinking
 * (often a functionCall) and needs it back on that same part next turn. The IR has signatures on
 * thinking parts only, so a signed non-thought part reads as an empty signed thinking part
 * followed by the part itself, and writing does the reverse.
 */
import type { IrAudioPart, IrDocumentPart, IrImagePart, IrPart } from "../../core/index.js";
import { documentBytes, documentUrlMediaType } from "../../lib/wire/media.js";
import { isObject, type WireObject } from "../../core/index.js";

export type Fail = (param: string, message: string) => Error;

const IMAGE_TYPES: Record<string, string> = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", heic: "image/heic", heif: "image/heif" };

/** Gemini wants a MIME type beside every file URI; the URL's extension is the best guess there is. */
export function mimeTypeOfUrl(url: string): string {
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  return (ext !== undefined ? IMAGE_TYPES[ext] : undefined) ?? "image/jpeg";
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * An inlineData/fileData part as IR by its MIME type: images as images, inline audio as audio,
 * anything else (PDF, text, audio by URI…) as a document; undefined when the part holds neither.
 */
export function mediaOf(part: WireObject, at: string, fail: Fail): IrImagePart | IrDocumentPart | IrAudioPart | undefined {
  const inline = part.inlineData ?? part.inline_data;
  if (isObject(inline)) {
    const mimeType = str(inline.mimeType ?? inline.mime_type);
    const data = str(inline.data);
    if (mimeType === undefined || data === undefined) throw fail(`${at}.inlineData`, "needs mimeType and data");
    if (mimeType.startsWith("image/")) return { type: "image", source: { kind: "base64", mediaType: mimeType, data } };
    if (mimeType.startsWith("audio/")) return { type: "audio", mediaType: mimeType, data };
    return withTitle({ type: "document", source: { kind: "base64", mediaType: mimeType, data } }, inline);
  }
  const file = part.fileData ?? part.file_data;
  if (isObject(file)) {
    const uri = str(file.fileUri ?? file.file_uri);
    if (uri === undefined) throw fail(`${at}.fileData.fileUri`, "must be a string");
    const mimeType = str(file.mimeType ?? file.mime_type);
    if (mimeType === undefined || mimeType.startsWith("image/")) return { type: "image", source: { kind: "url", url: uri } };
    return withTitle({ type: "document", source: { kind: "url", url: uri, mediaType: mimeType } }, file);
  }
  return undefined;
}

function withTitle(part: IrDocumentPart, blob: WireObject): IrDocumentPart {
  const name = str(blob.displayName ?? blob.display_name);
  if (name !== undefined) part.title = name;
  return part;
}

/**
 * A model-side part (text, thought, functionCall, image) as IR parts. `callId` supplies an id for
 * function calls that carry none (the Gemini API often sends none).
 */
export function modelPartToIr(raw: unknown, at: string, callId: () => string, fail: Fail): IrPart[] {
  if (!isObject(raw)) throw fail(at, "must be an object");
  const signature = str(raw.thoughtSignature ?? raw.thought_signature);
  const text = str(raw.text);
  if (raw.thought === true) {
    return [signature === undefined ? { type: "thinking", text: text ?? "" } : { type: "thinking", text: text ?? "", signature }];
  }
  const out: IrPart[] = signature === undefined ? [] : [{ type: "thinking", text: "", signature }];
  const call = raw.functionCall ?? raw.function_call;
  if (text !== undefined) {
    if (text.length > 0) out.push({ type: "text", text });
  } else if (isObject(call)) {
    const name = str(call.name);
    if (name === undefined) throw fail(`${at}.functionCall.name`, "must be a string");
    const args = call.args ?? {};
    if (!isObject(args)) throw fail(`${at}.functionCall.args`, "must be an object");
    out.push({ type: "tool_call", id: str(call.id) ?? callId(), name, arguments: JSON.stringify(args) });
  } else {
    const image = mediaOf(raw, at, fail);
    if (image === undefined) throw fail(at, `part kind ${Object.keys(raw).join(", ") || "(empty)"} cannot be translated to other formats`);
    out.push(image);
  }
  return out;
}

function imagePartOf(part: IrImagePart): WireObject {
  return part.source.kind === "base64"
    ? { inlineData: { mimeType: part.source.mediaType, data: part.source.data } }
    : { fileData: { mimeType: mimeTypeOfUrl(part.source.url), fileUri: part.source.url } };
}

/** Tool-call arguments as the object Gemini wants; text that is not a JSON object is kept under `input`. */
export function argsOf(args: string): WireObject {
  try {
    const value: unknown = JSON.parse(args);
    if (isObject(value)) return value;
  } catch {
    // fall through
  }
  return args.trim().length === 0 ? {} : { input: args };
}

/** IR assistant parts -> Gemini model parts, signatures moved onto the part that follows them. */
export function modelPartsFromIr(parts: IrPart[]): WireObject[] {
  const out: WireObject[] = [];
  let pending: string | undefined;
  const push = (part: WireObject) => {
    if (pending !== undefined) {
      part.thoughtSignature = pending;
      pending = undefined;
    }
    out.push(part);
  };
  for (const part of parts) {
    switch (part.type) {
      case "thinking":
        if (part.text.length === 0) {
          if (part.signature !== undefined) pending = part.signature;
        } else {
          out.push(part.signature === undefined ? { text: part.text, thought: true } : { text: part.text, thought: true, thoughtSignature: part.signature });
        }
        break;
      case "text":
        push({ text: part.text });
        break;
      case "tool_call":
        push({ functionCall: { id: part.id, name: part.name, args: argsOf(part.arguments) } });
        break;
      case "image":
        push(imagePartOf(part));
        break;
      default:
        break;
    }
  }
  if (pending !== undefined) out.push({ text: "", thoughtSignature: pending });
  return out;
}

export function userPartOf(part: IrPart): WireObject | undefined {
  if (part.type === "text") return { text: part.text };
  if (part.type === "image") return imagePartOf(part);
  if (part.type === "audio") return { inlineData: { mimeType: part.mediaType, data: part.data } };
  if (part.type === "document") return documentPartOf(part);
  return undefined;
}

/** Documents go inline (`inlineData`) or by URI (`fileData`); Gemini reads no other provider's file ids. */
function documentPartOf(part: IrDocumentPart): WireObject | undefined {
  if (part.source.kind === "url") return { fileData: { mimeType: documentUrlMediaType(part.source), fileUri: part.source.url } };
  const bytes = documentBytes(part);
  return bytes === undefined ? undefined : { inlineData: { mimeType: bytes.mediaType, data: bytes.data } };
}
