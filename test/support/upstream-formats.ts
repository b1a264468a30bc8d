/**
 * One scriptable upstream that speaks all four model APIs on their own paths, for cross-format
 * tests: a node:http server on 127.0.0.1 (port 0) that answers
 *   POST /v1/chat/completions                                  (OpenAI Chat Completions)
 *   POST /v1/responses                                         (OpenAI Responses)
 *   POST /v1/messages, POST /v1/messages/count_tokens          (Anthropic Messages)
 *   POST /v1beta/models/{model}:generateContent                (Gemini)
 *   POST /v1beta/models/{model}:streamGenerateContent?alt=sse
 * plain or streamed (as the request asks), with text, tool calls and usage from a script, or with
 * an error in that API's own shape; or replays a recorded body verbatim (a fixture). Every
 * request is recorded with the format its path belongs to, so tests can check the translation.
 *
 *   const upstream = await startFormatsUpstream();
 *   upstream.set({ reply: { text: "Hi", usage: { input: 10, output: 2 } } });
 *   upstream.queue({ error: { status: 429, message: "slow down", retryAfter: 7 } });
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  anthropicBody,
  anthropicStream,
  chatBody,
  chatStream,
  errorReply,
  geminiBody,
  geminiStream,
  responsesBody,
  responsesStream,
  type ScriptedError,
  type ScriptedReply,
  type UpstreamFormat,
} from "./upstream-wire.js";

export type { ScriptedReply, ScriptedError, ScriptedToolCall, ScriptedUsage, UpstreamFormat } from "./upstream-wire.js";

export interface UpstreamScript {
  /** What a successful call answers; plain or streamed as the request asks. */
  reply?: ScriptedReply;
  /** Answer with this error instead, in the called API's own error shape. */
  error?: ScriptedError;
  /** Send this instead of anything scripted: a JSON body, or SSE text (a fixture file) for streams. */
  replay?: { json: unknown } | { sse: string };
  /** What count_tokens answers. */
  inputTokens?: number;
}

export interface FormatRequest {
  /** The API the path belongs to. */
  format: UpstreamFormat;
  /** `generate`, or `count_tokens` for Anthropic's counting endpoint. */
  endpoint: "generate" | "count_tokens";
  method: string;
  /** Path without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: any;
  /** The model as the upstream reads it: from the body, or from the path for Gemini. */
  model: string | undefined;
  stream: boolean;
}

export interface FormatsUpstream {
  /** `http://127.0.0.1:<port>`: Anthropic and Gemini base URLs; OpenAI's is `${origin}/v1`. */
  readonly origin: string;
  readonly requests: FormatRequest[];
  /** The last request received; throws when there is none. */
  last(): FormatRequest;
  /** Replaces the script of every later request (queued ones still go first). */
  set(script: UpstreamScript): void;
  /** Scripts for the next requests, one each, in order. */
  queue(...scripts: UpstreamScript[]): void;
  close(): Promise<void>;
}

const DEFAULT_REPLY: ScriptedReply = { text: "Hello from the formats upstream.", usage: { input: 12, output: 6 } };

const GEMINI_PATH = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/;

function routeOf(method: string, path: string): { format: UpstreamFormat; endpoint: FormatRequest["endpoint"]; pathModel?: string; pathStream?: boolean } | undefined {
  if (method !== "POST") return undefined;
  if (path === "/v1/chat/completions") return { format: "openai-chat", endpoint: "generate" };
  if (path === "/v1/responses") return { format: "openai-responses", endpoint: "generate" };
  if (path === "/v1/messages") return { format: "anthropic-messages", endpoint: "generate" };
  if (path === "/v1/messages/count_tokens") return { format: "anthropic-messages", endpoint: "count_tokens" };
  const gemini = GEMINI_PATH.exec(path);
  if (gemini?.[2] === "countTokens") return { format: "gemini", endpoint: "count_tokens", pathModel: decodeURIComponent(gemini[1]!) };
  if (gemini) return { format: "gemini", endpoint: "generate", pathModel: decodeURIComponent(gemini[1]!), pathStream: gemini[2] === "streamGenerateContent" };
  return undefined;
}

export async function startFormatsUpstream(initial: UpstreamScript = {}): Promise<FormatsUpstream> {
  let defaults = initial;
  const pending: UpstreamScript[] = [];
  const requests: FormatRequest[] = [];
  const sockets = new Set<Socket>();
  let served = 0;

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://upstream");
      const route = routeOf(req.method ?? "", url.pathname);
      if (!route) return json(res, 404, { error: { message: `no route for ${req.method} ${url.pathname}` } });
      const raw = Buffer.concat(parts).toString("utf8");
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        return json(res, 400, { error: { message: "body must be JSON" } });
      }
      const stream = route.pathStream ?? body?.stream === true;
      const model = route.pathModel ?? (typeof body?.model === "string" ? body.model : undefined);
      requests.push({ format: route.format, endpoint: route.endpoint, method: req.method ?? "", path: url.pathname, query: url.searchParams, headers: req.headers, body, model, stream });
      const script = { ...defaults, ...pending.shift() };
      answer(res, route.format, route.endpoint, script, body, model ?? "unnamed-model", stream, ++served);
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    requests,
    last() {
      const last = requests.at(-1);
      if (!last) throw new Error("formats upstream: no request received");
      return last;
    },
    set(script) {
      defaults = script;
    },
    queue(...scripts) {
      pending.push(...scripts);
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(res: ServerResponse, format: UpstreamFormat, endpoint: FormatRequest["endpoint"], script: UpstreamScript, body: any, model: string, stream: boolean, n: number): void {
  if (script.error) {
    const { body: errorBody, headers } = errorReply(format, script.error);
    return json(res, script.error.status, errorBody, headers);
  }
  if (endpoint === "count_tokens") return json(res, 200, format === "gemini" ? { totalTokens: script.inputTokens ?? 0 } : { input_tokens: script.inputTokens ?? 0 });
  if (script.replay) {
    if ("json" in script.replay) return json(res, 200, script.replay.json);
    return writeSse(res, [script.replay.sse]);
  }
  const reply = withAskedLogprobs(format, body, script.reply ?? DEFAULT_REPLY);
  const created = 1_760_000_000 + n;
  switch (format) {
    case "openai-chat": {
      const id = `chatcmpl-up${n}`;
      if (!stream) return json(res, 200, chatBody(reply, model, id, created));
      return writeSse(res, chatStream(reply, model, id, created, body?.stream_options?.include_usage === true));
    }
    case "openai-responses": {
      const id = `resp_up${n}`;
      return stream ? writeSse(res, responsesStream(reply, model, id, created, n)) : json(res, 200, responsesBody(reply, model, id, created, n));
    }
    case "anthropic-messages": {
      const id = `msg_up${n}`;
      return stream ? writeSse(res, anthropicStream(reply, model, id)) : json(res, 200, anthropicBody(reply, model, id));
    }
    case "gemini": {
      const id = `gemini-up${n}`;
      return stream ? writeSse(res, geminiStream(reply, model, id)) : json(res, 200, geminiBody(reply, model, id));
    }
  }
}

/** Logprobs answered only when the request asks for them, in its API's own terms, as real upstreams do. */
function withAskedLogprobs(format: UpstreamFormat, body: any, reply: ScriptedReply): ScriptedReply {
  const top = (n: unknown) => (typeof n === "number" ? n : 0);
  switch (format) {
    case "openai-chat":
      return body?.logprobs === true ? { ...reply, logprobs: { top: top(body.top_logprobs) } } : reply;
    case "openai-responses":
      return Array.isArray(body?.include) && body.include.includes("message.output_text.logprobs") ? { ...reply, logprobs: { top: top(body.top_logprobs) } } : reply;
    case "gemini":
      return body?.generationConfig?.responseLogprobs === true ? { ...reply, logprobs: { top: top(body.generationConfig.logprobs) } } : reply;
    case "anthropic-messages":
      return reply;
  }
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Each chunk is its own write, as a real upstream flushes events one by one. */
function writeSse(res: ServerResponse, chunks: string[]): void {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  for (const chunk of chunks) res.write(chunk);
  res.end();
}
