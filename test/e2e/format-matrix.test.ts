/**
 * Every client SDK against a backend of every format (its own included) through one gateway:
 * openai (chat.completions, responses), @anthropic-ai/sdk (messages) and @google/genai (models)
 * against upstreams speaking Chat Completions, Responses, Anthropic Messages and Gemini, plain
 * and streamed, text, parallel tool calls and a reply cut at the token limit. The SDK's parsed
 * result is checked field by field in the client's own terms, and the request the upstream got
 * in its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  askWith,
  CLIENT_APIS,
  clientsFor,
  sendToolResults,
  streamWith,
  TOOL_TURN,
  WEATHER_TOOL,
  type Ask,
  type ClientApi,
  type Clients,
  type Seen,
} from "../support/format-clients.js";
import { readAsked, readToolTurn } from "../support/upstream-requests.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { startFormatsUpstream, type FormatsUpstream, type ScriptedReply, type UpstreamFormat } from "../support/upstream-formats.js";
import { matrixPipeline, BACKEND_KEYS, MODEL_OF } from "../support/format-matrix-pipeline.js";

const KEY = "sk-matrix-client";

const REPLIES = {
  text: { text: "Paris is sunny, 21 degrees.", usage: { input: 1200, output: 9, cached: 1024 } },
  tools: {
    text: "Checking both cities.",
    toolCalls: [
      { id: "call_paris_1", name: "get_weather", arguments: { city: "Paris" } },
      { id: "call_oslo_2", name: "get_weather", arguments: { city: "Oslo", unit: "celsius" } },
    ],
    usage: { input: 310, output: 42, cached: 256 },
  },
  truncated: { text: "The weather in Paris is", truncated: true, usage: { input: 40, output: 5, cached: 32 } },
} satisfies Record<string, ScriptedReply>;
type Kind = keyof typeof REPLIES;

const FINISH: Record<ClientApi, Record<"stop" | "tool_calls" | "length", string>> = {
  "openai-chat": { stop: "stop", tool_calls: "tool_calls", length: "length" },
  "openai-responses": { stop: "completed", tool_calls: "completed", length: "incomplete:max_output_tokens" },
  "anthropic-messages": { stop: "end_turn", tool_calls: "tool_use", length: "max_tokens" },
  gemini: { stop: "STOP", tool_calls: "STOP", length: "MAX_TOKENS" },
};

/** What the client must see for `reply` from a `backend` upstream, in the client's own terms. */
function expected(client: ClientApi, backend: UpstreamFormat, reply: ScriptedReply): Omit<Seen, "backend"> {
  const calls = reply.toolCalls ?? [];
  const finish = reply.truncated ? "length" : calls.length > 0 ? "tool_calls" : "stop";
  const cached = reply.usage.cached ?? 0;
  return {
    text: reply.text ?? "",
    thinking: "",
    signatures: [],
    toolCalls: calls.map((c, i) => ({
      // Gemini upstreams send no call ids: the gateway numbers them, and a Gemini client passed through sees none.
      id: backend !== "gemini" ? c.id : client === "gemini" ? undefined : `call_${i}`,
      name: c.name,
      args: c.arguments,
    })),
    finish: FINISH[client][finish],
    usage: { input: client === "anthropic-messages" ? reply.usage.input - cached : reply.usage.input, output: reply.usage.output, cached },
  };
}

describe("format matrix: every client SDK against every backend format, through the gateway", () => {
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

  for (const client of CLIENT_APIS) {
    describe(`${client} client`, () => {
      for (const backend of CLIENT_APIS) {
        for (const stream of [false, true]) {
          for (const kind of Object.keys(REPLIES) as Kind[]) {
            const mode = stream ? "streamed" : "plain";
            it(`${mode} ${kind} from a ${backend} backend reads back field by field, and the upstream got its own format`, async () => {
              const reply = REPLIES[kind];
              upstream.set({ reply });
              const before = upstream.requests.length;
              const ask: Ask = { model: MODEL_OF[backend], system: "You are terse.", user: "Weather in Paris and Oslo?", maxTokens: 200, tools: kind === "tools", stream };
              const seen = await askWith(clients, client, ask);

              const { backend: backendHeader, ...rest } = seen;
              expect(rest).toEqual(expected(client, backend, reply));
              expect(backendHeader).toBe(backend);

              expect(upstream.requests.length).toBe(before + 1);
              const req = upstream.last();
              expect(req.format).toBe(backend);
              expect(readAsked(req)).toEqual({
                model: MODEL_OF[backend],
                system: "You are terse.",
                user: "Weather in Paris and Oslo?",
                tools: kind === "tools" ? [{ name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.parameters }] : [],
                maxTokens: 200,
                stream,
              });
              expect(req.headers[BACKEND_KEYS.header[backend]]).toBe(BACKEND_KEYS.value(backend));
              expect(JSON.stringify(req.headers)).not.toContain(KEY);
              if (backend === "gemini") {
                expect(req.path).toBe(`/v1beta/models/${MODEL_OF.gemini}:${stream ? "streamGenerateContent" : "generateContent"}`);
                expect(req.query.get("alt")).toBe(stream ? "sse" : null);
              }
              // Chat Completions streams report usage only when asked: the gateway always asks.
              if (backend === "openai-chat" && stream) expect(req.body.stream_options).toEqual({ include_usage: true });
            });
          }
        }
        it(`iterates a ${backend} stream with the SDK's plain stream iterator (stream: true)`, async () => {
          upstream.set({ reply: REPLIES.text });
          const outcome = await streamWith(clients, client, { model: MODEL_OF[backend], system: "You are terse.", user: "Weather in Paris?", maxTokens: 200, tools: false });
          expect(outcome).toEqual({ text: REPLIES.text.text, error: undefined });
          expect(upstream.last()).toMatchObject({ format: backend, stream: true });
        });

        it(`sends tool results back to a ${backend} backend, each paired with its own call`, async () => {
          upstream.set({ reply: { text: "Paris is sunny; Oslo is snowy.", usage: { input: 90, output: 8 } } });
          expect(await sendToolResults(clients, client, MODEL_OF[backend])).toBe("Paris is sunny; Oslo is snowy.");
          const turn = readToolTurn(upstream.last());
          expect(turn.calls.map((c) => [c.name, c.args])).toEqual(TOOL_TURN.calls.map((c) => ["get_weather", { city: c.city }]));
          // Where the format carries ids, a result names its call by id (the client's own ids when it sent some); else by order.
          const callOf = (r: (typeof turn.results)[number], i: number) => (r.id === undefined ? turn.calls[i] : turn.calls.find((c) => c.id === r.id));
          expect(turn.results.map((r, i) => [(callOf(r, i)?.args as { city?: string } | undefined)?.city, r.text])).toEqual(TOOL_TURN.calls.map((c) => [c.city, c.result]));
          if (client !== "gemini" && backend !== "gemini") expect(turn.calls.map((c) => c.id)).toEqual(TOOL_TURN.calls.map((c) => c.id));
          if (backend === "gemini") expect(turn.results.map((r) => r.name)).toEqual(["get_weather", "get_weather"]);
        });
      }
    });
  }
});
