/** Test support shared by the format translator tests: fixtures, SSE decoding and stream assembly. */
import { readFileSync } from "node:fs";
import { SseParser } from "../../../lib/wire/sse.js";
import { type FormatTranslator, type GatewayError, type IrRequest, type IrStreamEvent, type IrUsage, type SseEvent } from "../../../core/index.js";

export function readFixtureText(format: string, file: string): string {
  return readFileSync(new URL(`../../fixtures/${format}/${file}`, import.meta.url), "utf8");
}

export function readFixture<T>(format: string, file: string): T {
  return JSON.parse(readFixtureText(format, file)) as T;
}

/** SSE text as the core parser reads it: one SseEvent per event. */
export function sseEvents(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  const parser = new SseParser((e) => out.push(e));
  parser.push(text);
  parser.end();
  return out;
}

/** Feeds SSE text through the core parser into a decoder, in chunks of `chunkSize` characters to exercise splits. */
export function decodeSse(translator: FormatTranslator, sse: string, chunkSize = 7, events: IrStreamEvent[] = []): IrStreamEvent[] {
  const decoder = translator.createStreamDecoder((e) => events.push(e));
  const parser = new SseParser((e) => decoder.push(e));
  for (let i = 0; i < sse.length; i += chunkSize) parser.push(sse.slice(i, i + chunkSize));
  parser.end();
  decoder.end();
  return events;
}

/** Like decodeSse, but returns the GatewayError the decoder raised (or undefined), never throwing. */
export function decodeSseError(translator: FormatTranslator, sse: string): { events: IrStreamEvent[]; error: unknown } {
  const events: IrStreamEvent[] = [];
  try {
    decodeSse(translator, sse, 7, events);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

/** Encodes IR events as a client stream; `fail` ends it with the format's error event instead. */
export function encodeEvents(translator: FormatTranslator, request: IrRequest, events: IrStreamEvent[], fail?: GatewayError): string {
  let out = "";
  const encoder = translator.createStreamEncoder(request, (text) => {
    out += text;
  });
  for (const e of events) encoder.push(e);
  if (fail === undefined) encoder.end();
  else encoder.error(fail);
  return out;
}

export interface StreamResult {
  id: string;
  model: string;
  text: string;
  thinking: string;
  signatures: string[];
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason?: string;
  stopSequence?: string;
  usage?: IrUsage;
}

/** Assembles a stream of IR events into what a client ends up with. */
export function collectStream(events: IrStreamEvent[]): StreamResult {
  const result: StreamResult = { id: "", model: "", text: "", thinking: "", signatures: [], toolCalls: [] };
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  for (const e of events) {
    switch (e.type) {
      case "start":
        result.id = e.id;
        result.model = e.model;
        break;
      case "text":
        result.text += e.text;
        break;
      case "thinking":
        result.thinking += e.text;
        if (e.signature !== undefined) result.signatures.push(e.signature);
        break;
      case "tool_call": {
        let call = calls.get(e.index);
        if (call === undefined) {
          call = { id: e.id ?? "", name: e.name ?? "", arguments: "" };
          calls.set(e.index, call);
        }
        call.arguments += e.argumentsDelta;
        break;
      }
      case "usage":
        result.usage = e.usage;
        break;
      case "finish":
        result.finishReason = e.finishReason;
        if (e.stopSequence !== undefined) result.stopSequence = e.stopSequence;
        break;
    }
  }
  result.toolCalls = [...calls.values()];
  return result;
}

/** Usage with absent counters read as zero, for comparing formats that always report every counter. */
export function usageView(usage: IrUsage | undefined): IrUsage | undefined {
  if (usage === undefined) return undefined;
  return {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedReadTokens: usage.cachedReadTokens ?? 0,
    cacheWriteTokens: usage.cacheWriteTokens ?? 0,
    reasoningTokens: usage.reasoningTokens ?? 0,
  };
}

/** Tool-call arguments compared as JSON values where they parse: formats that carry objects re-serialize them. */
export function withParsedArguments(result: StreamResult): Omit<StreamResult, "toolCalls"> & { toolCalls: Array<{ id: string; name: string; arguments: unknown }> } {
  return {
    ...result,
    toolCalls: result.toolCalls.map((c) => {
      try {
        return { ...c, arguments: JSON.parse(c.arguments) as unknown };
      } catch {
        return c;
      }
    }),
  };
}
