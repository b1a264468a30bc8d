/**
 * Documents and audio as the four formats carry them: data URLs (OpenAI), MIME types (Anthropic,
 * Gemini) and OpenAI's audio `format` names, read and written one way for every translator.
 */
import type { IrAudioPart, IrDocumentPart } from "../../core/index.js";

const DATA_URL = /^data:([^;,]+);base64,/;

/** `data:<type>;base64,<data>` as its parts, or undefined for any other URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = DATA_URL.exec(url);
  return match === null ? undefined : { mediaType: match[1]!, data: url.slice(match[0].length) };
}

export function dataUrl(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}

/** OpenAI's audio `format` names and the MIME types Gemini and the IR use for them. */
const AUDIO_FORMATS: Record<string, string> = { wav: "audio/wav", mp3: "audio/mp3" };
const AUDIO_MEDIA_TYPES: Record<string, string> = { "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/mp3": "mp3", "audio/mpeg": "mp3" };

/** OpenAI `input_audio.format` (wav, mp3) as a MIME type; undefined for a format OpenAI does not define. */
export function audioMediaTypeOf(format: string): string | undefined {
  return AUDIO_FORMATS[format];
}

/** The OpenAI `input_audio.format` for an audio part, or undefined when OpenAI takes no such audio. */
export function openAiAudioFormatOf(part: IrAudioPart): string | undefined {
  return AUDIO_MEDIA_TYPES[part.mediaType.toLowerCase()];
}

/** A document's content as base64 with its MIME type, for formats that take only inline bytes; undefined for URL and file sources. */
export function documentBytes(part: IrDocumentPart): { mediaType: string; data: string } | undefined {
  const source = part.source;
  if (source.kind === "base64") return { mediaType: source.mediaType, data: source.data };
  if (source.kind === "text") return { mediaType: "text/plain", data: Buffer.from(source.text, "utf8").toString("base64") };
  return undefined;
}

/** The document's text when it is plain text (a text source, or base64 of a text/plain body). */
export function documentText(part: IrDocumentPart): string | undefined {
  const source = part.source;
  if (source.kind === "text") return source.text;
  if (source.kind === "base64" && source.mediaType.split(";")[0]!.trim().toLowerCase() === "text/plain") return Buffer.from(source.data, "base64").toString("utf8");
  return undefined;
}

/** A file name for formats that want one beside inline bytes (OpenAI `filename`). */
export function documentFilename(part: IrDocumentPart, mediaType: string): string {
  if (part.title !== undefined && part.title.length > 0) return part.title;
  return mediaType === "application/pdf" ? "document.pdf" : mediaType.startsWith("text/") ? "document.txt" : "document";
}

/** A document URL's MIME type: as given, else guessed from the extension, PDF when nothing says (Anthropic URL documents are PDFs). */
export function documentUrlMediaType(source: { url: string; mediaType?: string }): string {
  if (source.mediaType !== undefined) return source.mediaType;
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(source.url)?.[1]?.toLowerCase();
  return ext === "txt" ? "text/plain" : ext === "html" ? "text/html" : ext === "csv" ? "text/csv" : "application/pdf";
}
