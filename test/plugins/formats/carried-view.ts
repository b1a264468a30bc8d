/**
 * What of an IR request should survive a trip through a format, given the fields the format's
 * translator says it cannot carry (`unsupportedFields`). Comparing the views of the original and of
 * the round-tripped request proves "loses nothing the target can carry".
 */
import type { IrPart, IrRequest } from "../../../core/index.js";

export interface ViewOptions {
  /** The format reads consecutive assistant messages back as one turn (OpenAI Responses items). */
  mergeAssistantTurns?: boolean;
}

export function carriedView(ir: IrRequest, lost: readonly string[], options: ViewOptions = {}): unknown {
  const has = (path: string) => lost.includes(path);
  const out = structuredClone(ir) as IrRequest & Record<string, unknown>;
  delete out.extra;
  delete out.streamUsage;
  // Defaults every format shares, whether written out or left implicit.
  if (out.toolChoice?.type === "auto") delete out.toolChoice;
  if (out.parallelToolCalls === true) delete out.parallelToolCalls;
  if (out.responseFormat?.type === "text") delete out.responseFormat;
  if (out.n === 1) delete out.n;
  for (const path of lost) if (!path.includes(".")) delete out[path];
  if (lost.some((p) => p.startsWith("reasoning."))) delete out.reasoning;
  if (lost.some((p) => p.startsWith("responseFormat."))) delete out.responseFormat;
  if (out.tools !== undefined) {
    out.tools = out.tools.map((t) => {
      const copy = { ...t };
      if (has("tools.cacheControl")) delete copy.cacheControl;
      if (has("tools.strict") || copy.strict === false) delete copy.strict;
      return copy;
    });
  }
  out.messages = out.messages.map((m) => {
    const copy = { ...m, content: m.content.flatMap((p) => partView(p, has)) };
    if (has("messages.name")) delete copy.name;
    return copy;
  });
  if (options.mergeAssistantTurns === true) {
    out.messages = out.messages.reduce<IrRequest["messages"]>((merged, m) => {
      const last = merged.at(-1);
      if (last !== undefined && last.role === "assistant" && m.role === "assistant") last.content = [...last.content, ...m.content];
      else merged.push({ ...m });
      return merged;
    }, []);
  }
  return out;
}

function partView(part: IrPart, has: (path: string) => boolean): IrPart[] {
  const p = { ...part } as IrPart & Record<string, unknown>;
  if (has("messages.cacheControl")) delete p.cacheControl;
  switch (p.type) {
    case "thinking":
      if (has("messages.thinking")) return [];
      if (has("messages.thinking.signature")) delete p.signature;
      return [p];
    case "document": {
      // Plain text is the same document whether sent as text or as text/plain bytes.
      const text = p.source.kind === "text" ? p.source.text : p.source.kind === "base64" && p.source.mediaType === "text/plain" ? Buffer.from(p.source.data, "base64").toString("utf8") : undefined;
      if (text !== undefined) p.source = { kind: "text", text };
      if (p.source.kind === "url" && p.source.mediaType === undefined) p.source = { ...p.source, mediaType: "application/pdf" };
      if (has("messages.document") || has(`messages.document.${p.source.kind}`)) return text !== undefined && has("messages.document.text") ? [{ type: "text", text }] : [];
      if (has("messages.document.title")) delete p.title;
      return [p];
    }
    case "audio":
      return has("messages.audio") ? [] : [p];
    case "image":
      if (has("messages.image.detail") || p.detail === "auto") delete p.detail;
      return [p];
    case "tool_result":
      if (has("messages.tool_result.isError")) delete p.isError;
      if (has("messages.tool_result.name")) delete p.name;
      p.content = p.content.flatMap((inner) => {
        if (inner.type === "image" && has("messages.tool_result.image")) return [];
        return partView(inner, has) as Array<typeof inner>;
      });
      if (has("messages.tool_result.text")) {
        // Formats with one text per result join the parts.
        const text = p.content.flatMap((inner) => (inner.type === "text" ? [inner.text] : [])).join("");
        p.content = [...(text.length > 0 ? [{ type: "text" as const, text }] : []), ...p.content.filter((inner) => inner.type !== "text")];
      }
      return [p];
    default:
      return [p];
  }
}
