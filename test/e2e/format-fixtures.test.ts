/**
 * Recorded upstream replies (the hand-written captures under test/fixtures/<format>/) replayed by
 * an upstream of that format and read by every client SDK of another format through the gateway:
 * thinking, signatures, redacted thinking, stop sequences, blocked prompts and growing stream
 * usage, as real APIs send them. The fixtures' own IR is the expectation, put in each client's
 * terms; what a client format has no place for is asserted as absent, not skipped.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IrFinishReason, IrResponse, IrUsage } from "../../core/index.js";
import { askWith, CLIENT_APIS, clientsFor, streamWith, type ClientApi, type Clients, type Seen } from "../support/format-clients.js";
import { BACKEND_KEYS, MODEL_OF, matrixPipeline } from "../support/format-matrix-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { startFormatsUpstream, type FormatsUpstream, type UpstreamFormat, type UpstreamScript } from "../support/upstream-formats.js";

const KEY = "sk-fixtures-client";
const FIXTURES = join(import.meta.dirname, "..", "fixtures");

/** A fixture's reply as the IR sees it, whether it came from responses.json or streams.json. */
interface Recorded {
  text: string;
  thinking: string;
  signatures: string[];
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: IrFinishReason;
  stopSequence?: string;
  usage?: IrUsage;
}

interface Fixture {
  name: string;
  stream: boolean;
  script: UpstreamScript;
  recorded: Recorded;
}

function fromResponse(ir: IrResponse): Recorded {
  const recorded: Recorded = { text: "", thinking: "", signatures: [], toolCalls: [], finishReason: ir.finishReason, stopSequence: ir.stopSequence, usage: ir.usage };
  for (const part of ir.content) {
    if (part.type === "text") recorded.text += part.text;
    else if (part.type === "thinking" && part.redactedData === undefined) {
      recorded.thinking += part.text;
      if (part.signature !== undefined) recorded.signatures.push(part.signature);
    } else if (part.type === "tool_call") recorded.toolCalls.push({ id: part.id, name: part.name, arguments: part.arguments });
  }
  return recorded;
}

function fixturesOf(format: UpstreamFormat): Fixture[] {
  const dir = join(FIXTURES, format);
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), "utf8"));
  const plain = (read("responses.json") as { name: string; wire: unknown; ir: IrResponse }[]).map((f) => ({
    name: f.name,
    stream: false,
    script: { replay: { json: f.wire } },
    recorded: fromResponse(f.ir),
  }));
  const streamed = (read("streams.json") as { name: string; file: string; result: Recorded }[]).map((f) => ({
    name: f.name,
    stream: true,
    script: { replay: { sse: readFileSync(join(dir, f.file), "utf8") } },
    recorded: { ...f.result, signatures: f.result.signatures ?? [] },
  }));
  return [...plain, ...streamed];
}

const FINISH: Record<ClientApi, Record<IrFinishReason, string>> = {
  "openai-chat": { stop: "stop", length: "length", tool_calls: "tool_calls", content_filter: "content_filter", error: "stop", other: "stop" },
  "openai-responses": { stop: "completed", length: "incomplete:max_output_tokens", tool_calls: "completed", content_filter: "incomplete:content_filter", error: "failed", other: "completed" },
  "anthropic-messages": { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use", content_filter: "refusal", error: "end_turn", other: "end_turn" },
  gemini: { stop: "STOP", length: "MAX_TOKENS", tool_calls: "STOP", content_filter: "SAFETY", error: "OTHER", other: "OTHER" },
};

/** The recorded reply in the client's own terms. */
function expected(client: ClientApi, r: Recorded): Omit<Seen, "backend" | "usage"> & { usage?: Seen["usage"] } {
  const finish = client === "anthropic-messages" && r.finishReason === "stop" && r.stopSequence !== undefined ? "stop_sequence" : FINISH[client][r.finishReason];
  const out: ReturnType<typeof expected> = {
    text: r.text,
    thinking: r.thinking,
    // Chat Completions has no field for a thinking signature.
    signatures: client === "openai-chat" ? [] : r.signatures,
    toolCalls: r.toolCalls.map((c) => ({ id: c.id, name: c.name, args: JSON.parse(c.arguments) })),
    finish,
  };
  const u = r.usage;
  if (u !== undefined) {
    const cached = u.cachedReadTokens;
    out.usage = {
      // Anthropic counts cache reads and writes apart from input_tokens.
      input: client === "anthropic-messages" ? u.inputTokens - (cached ?? 0) - (u.cacheWriteTokens ?? 0) : u.inputTokens,
      // Gemini counts thoughts apart from candidatesTokenCount.
      output: client === "gemini" ? u.outputTokens - (u.reasoningTokens ?? 0) : u.outputTokens,
      // Gemini leaves cachedContentTokenCount out when nothing was cached; the others say 0.
      cached: client === "gemini" ? cached : (cached ?? 0),
    };
  }
  return out;
}

describe("recorded upstream replies reach every client of another format", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let clients: Clients;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    gw = await startGateway({ "matrix.pipeline.json": matrixPipeline(upstream.origin), "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]) }, BACKEND_KEYS.env);
    clients = clientsFor(gw.url, KEY);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  for (const backend of CLIENT_APIS) {
    for (const fixture of fixturesOf(backend)) {
      for (const client of CLIENT_APIS.filter((c) => c !== backend)) {
        it(`${backend} ${fixture.stream ? "stream" : "reply"} "${fixture.name}" reads back in a ${client} client`, async () => {
          upstream.queue(fixture.script);
          const seen = await askWith(clients, client, { model: MODEL_OF[backend], system: "Be brief.", user: "Go.", maxTokens: 300, tools: true, stream: fixture.stream });
          const { backend: _header, usage, ...rest } = seen;
          const want = expected(client, fixture.recorded);
          const { usage: wantUsage, ...wantRest } = want;
          expect(rest).toEqual(wantRest);
          if (wantUsage !== undefined) expect(usage).toEqual(wantUsage);
          expect(upstream.last().format).toBe(backend);
        });
      }
    }
  }
});

const ERROR_STREAMS: Record<UpstreamFormat, { file: string; message: string }> = {
  "openai-chat": { file: "stream-error.sse", message: "The server had an error while processing your request. Sorry about that!" },
  "openai-responses": { file: "stream-error.sse", message: "Rate limit reached for gpt-4.1" },
  "anthropic-messages": { file: "stream-overloaded.sse", message: "Overloaded" },
  gemini: { file: "stream-error.sse", message: "The model is overloaded. Please try again later." },
};

describe("an upstream stream that fails midway reaches every client as its own error event", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let clients: Clients;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    gw = await startGateway({ "matrix.pipeline.json": matrixPipeline(upstream.origin), "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]) }, BACKEND_KEYS.env);
    clients = clientsFor(gw.url, KEY);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  for (const backend of CLIENT_APIS) {
    for (const client of CLIENT_APIS.filter((c) => c !== backend)) {
      it(`a ${backend} stream error after "Partial" ends a ${client} client's stream with an error the SDK raises`, async () => {
        const { file, message } = ERROR_STREAMS[backend];
        upstream.queue({ replay: { sse: readFileSync(join(FIXTURES, backend, file), "utf8") } });
        const outcome = await streamWith(clients, client, { model: MODEL_OF[backend], system: "", user: "Go.", maxTokens: 50, tools: false });
        expect(outcome.text).toBe("Partial");
        expect(outcome.error).toBeInstanceOf(Error);
        // @google/genai raises ApiError only for an error JSON that arrives alone in a network
        // chunk, and yields a framed `data: {"error":…}` event as an empty chunk. The gateway
        // sends both; arriving together, the SDK raises its generic "Incomplete JSON segment".
        if (client !== "gemini") expect((outcome.error as Error).message).toContain(message);
      });
    }
  }
});
