/**
 * A real OpenAI-compatible upstream for tests: a node:http server on 127.0.0.1 (port 0) that
 * answers `POST …/chat/completions` (any prefix) plain and streamed, lists models on `GET /v1/models`,
 * records every request and counts sockets, and misbehaves on demand (error statuses with
 * retry-after, slow headers, hangs, resets before or during a stream).
 *
 *   const upstream = await startOpenAiUpstream({ chunks: 3 });
 *   // point a backend at upstream.url ("http://127.0.0.1:<port>/v1")
 *   upstream.queue({ error: { status: 503 } });   // the next request fails, later ones succeed
 *   await upstream.close();
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { waitUntil } from "./wait.js";

export interface UpstreamBehaviour {
  /** Assistant text of successful replies. Default: "Hello from the test upstream." */
  reply?: string;
  /** Reply with the text of the last user message instead of `reply`. */
  echo?: boolean;
  /** Content chunks of a streamed reply. Default 3. */
  chunks?: number;
  /** Pause before each streamed content chunk. Default 0. */
  chunkDelayMs?: number;
  /** Pause before the status line (slow headers). Default 0. */
  headersDelayMs?: number;
  /** Fixed usage; by default about 4 characters per token. */
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Answer with this status instead (after `headersDelayMs`). Body default: an OpenAI error object. */
  error?: { status: number; body?: unknown; headers?: Record<string, string> };
  /** Never answer: the request stays open until the client gives up or the upstream closes. */
  hang?: boolean;
  /** Reset the connection instead of answering. */
  resetBeforeHeaders?: boolean;
  /** Streams only: reset the connection after this many content chunks. */
  resetAfterChunks?: number;
  /** Streams only: after this many content chunks, send an error event (as OpenAI does when a stream fails mid-way, an HTTP/2 stream error surfaced in SSE) and end the response. */
  errorEventAfterChunks?: number;
  /** Send a 200 status line and headers, then reset the connection before any body byte. */
  resetAfterHeaders?: boolean;
  /** Send a 200 status line and headers, then nothing more (the body never starts). */
  hangAfterHeaders?: boolean;
  /** Plain replies only: send the headers and half of the JSON body, then reset the connection. */
  resetMidBody?: boolean;
  /** Answer only once this settles: holds a request in flight for as long as the test needs. */
  holdUntil?: Promise<unknown>;
  /** Streams only: before content chunk `index` (0-based), wait for what this returns (after chunkDelayMs). */
  beforeChunk?: (index: number) => Promise<unknown>;
}

export interface RecordedRequest {
  method: string;
  /** Path with query, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: any;
  rawBody: string;
  /** Which socket carried it: 1 for the first the upstream accepted, and so on. */
  connection: number;
  /** Settles when that socket closes (e.g. because the client aborted). */
  connectionClosed: Promise<void>;
  /** `performance.now()` when its body had been read. */
  receivedAt: number;
}

export interface UpstreamServerOptions {
  /** The server's idle keep-alive (Node's default is 5 s; it is also the hint sent to clients). */
  keepAliveTimeoutMs?: number;
}

export interface OpenAiUpstream {
  /** Base URL for an OpenAI client or provider config: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  /** Every request received, in order of arrival (recorded once its body is read). */
  readonly requests: RecordedRequest[];
  /** Sockets open right now. */
  readonly connections: number;
  /** Sockets accepted since start. */
  readonly totalConnections: number;
  /** Replaces the behaviour of every later request (one-shot `queue` entries still go first). */
  set(behaviour: UpstreamBehaviour): void;
  /** Behaviours for the next requests, one each, in order, each merged over the current default. */
  queue(...behaviours: UpstreamBehaviour[]): void;
  /** Resolves once exactly `count` sockets are open. */
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once at least `count` requests were received (hung ones included). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Stops listening and destroys every socket, hung requests included. */
  close(): Promise<void>;
}

const DEFAULT_REPLY = "Hello from the test upstream.";

export async function startOpenAiUpstream(initial: UpstreamBehaviour = {}, options: UpstreamServerOptions = {}): Promise<OpenAiUpstream> {
  let defaults = initial;
  const pending: UpstreamBehaviour[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const tracked = new WeakMap<Socket, { number: number; closed: Promise<void> }>();
  const timers = new Set<NodeJS.Timeout>();
  let total = 0;
  let served = 0;

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const rawBody = Buffer.concat(parts).toString("utf8");
      let body: any;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const socket = tracked.get(req.socket)!;
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, rawBody, connection: socket.number, connectionClosed: socket.closed, receivedAt: performance.now() });
      const behaviour = { ...defaults, ...pending.shift() };
      answer(req, res, body, rawBody, behaviour, ++served, later);
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.on("connection", (socket: Socket) => {
    tracked.set(socket, { number: ++total, closed: new Promise((resolve) => socket.once("close", () => resolve())) });
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/v1`,
    origin,
    port,
    requests,
    get connections() {
      return sockets.size;
    },
    get totalConnections() {
      return total;
    },
    set(behaviour) {
      defaults = behaviour;
    },
    queue(...behaviours) {
      pending.push(...behaviours);
    },
    waitForConnections(count, timeoutMs) {
      return until(() => sockets.size === count, () => `${sockets.size} sockets open, expected ${count}`, timeoutMs);
    },
    waitForRequests(count, timeoutMs) {
      return until(() => requests.length >= count, () => `${requests.length} requests received, expected ${count}`, timeoutMs);
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function until(done: () => boolean, describe: () => string, timeoutMs?: number): Promise<void> {
  return waitUntil(done, () => `test upstream: ${describe()}`, { timeoutMs, intervalMs: 5 });
}

/** A base URL on which nothing listens: connections to it are refused. */
export async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  body: any,
  rawBody: string,
  b: UpstreamBehaviour,
  n: number,
  later: (ms: number, fn: () => void) => void,
): void {
  if (b.hang) return;
  if (b.holdUntil) {
    void b.holdUntil.then(() => answer(req, res, body, rawBody, { ...b, holdUntil: undefined }, n, later));
    return;
  }
  if (b.resetBeforeHeaders) return reset(req.socket);
  later(b.headersDelayMs ?? 0, () => {
    if (res.destroyed) return;
    if (b.error) {
      const errorBody = b.error.body ?? { error: { message: `test upstream error ${b.error.status}`, type: "server_error", param: null, code: null } };
      const text = typeof errorBody === "string" ? errorBody : JSON.stringify(errorBody);
      res.writeHead(b.error.status, { "content-type": typeof errorBody === "string" ? "text/plain" : "application/json", ...b.error.headers });
      return res.end(text);
    }
    const path = (req.url ?? "").split("?")[0];
    if (req.method === "GET" && path === "/v1/models") {
      return json(res, 200, { object: "list", data: [{ id: "test-model", object: "model", created: 0, owned_by: "test" }] });
    }
    // Any prefix: /v1/chat/completions, Azure's /openai/deployments/<d>/chat/completions, a proxy's /openai/v1/….
    if (req.method !== "POST" || !path?.endsWith("/chat/completions")) {
      return json(res, 404, { error: { message: `no route for ${req.method} ${path}`, type: "invalid_request_error", param: null, code: "not_found" } });
    }
    if (typeof body !== "object" || body === null || !Array.isArray(body.messages)) {
      return json(res, 400, { error: { message: rawBody ? "messages must be an array" : "body must be JSON", type: "invalid_request_error", param: "messages", code: null } });
    }
    const text = (b.echo ? lastUserText(body.messages) : undefined) ?? b.reply ?? DEFAULT_REPLY;
    const usage = b.usage ?? { prompt_tokens: Math.max(1, Math.ceil(JSON.stringify(body.messages).length / 4)), completion_tokens: Math.max(1, Math.ceil(text.length / 4)) };
    const head = { id: `chatcmpl-test-${n}`, created: Math.floor(Date.now() / 1000), model: String(body.model ?? "test-model") };
    if (b.resetAfterHeaders || b.hangAfterHeaders) {
      res.writeHead(200, { "content-type": body.stream === true ? "text/event-stream; charset=utf-8" : "application/json" });
      res.flushHeaders();
      if (b.resetAfterHeaders) later(20, () => reset(req.socket));
      return;
    }
    if (body.stream === true) return stream(req, res, body, text, usage, head, b, later);
    const completion = {
      ...head,
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop", logprobs: null }],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    };
    if (b.resetMidBody) {
      const full = JSON.stringify(completion);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(full) });
      res.write(full.slice(0, full.length >> 1));
      return later(20, () => reset(req.socket));
    }
    json(res, 200, completion);
  });
}

function stream(
  req: IncomingMessage,
  res: ServerResponse,
  body: any,
  text: string,
  usage: { prompt_tokens: number; completion_tokens: number },
  head: { id: string; created: number; model: string },
  b: UpstreamBehaviour,
  later: (ms: number, fn: () => void) => void,
): void {
  const frame = (choices: unknown[], extra: Record<string, unknown> = {}): boolean =>
    res.write(`data: ${JSON.stringify({ ...head, object: "chat.completion.chunk", choices, ...extra })}\n\n`);
  const pieces = split(text, b.chunks ?? 3);
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  frame([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
  let sent = 0;
  let gated = false;
  const next = (): void => {
    if (res.destroyed) return;
    if (b.resetAfterChunks !== undefined && sent >= b.resetAfterChunks) return reset(req.socket);
    if (b.errorEventAfterChunks !== undefined && sent >= b.errorEventAfterChunks) {
      return void res.end(`data: ${JSON.stringify({ error: { message: "The server had an error while processing your request.", type: "server_error", code: "internal_error" } })}\n\n`);
    }
    if (sent < pieces.length && b.beforeChunk && !gated) {
      gated = true;
      void b.beforeChunk(sent).then(next);
      return;
    }
    gated = false;
    if (sent < pieces.length) {
      frame([{ index: 0, delta: { content: pieces[sent++] }, finish_reason: null }]);
      return later(b.chunkDelayMs ?? 0, next);
    }
    frame([{ index: 0, delta: {}, finish_reason: "stop" }]);
    if (body.stream_options?.include_usage === true) frame([], { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
    res.end("data: [DONE]\n\n");
  };
  later(b.chunkDelayMs ?? 0, next);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** A TCP reset where the platform allows it (the client sees ECONNRESET), else a plain close. */
function reset(socket: Socket): void {
  if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
  else socket.destroy();
}

function lastUserText(messages: Array<{ role?: string; content?: unknown }>): string | undefined {
  const last = [...messages].reverse().find((m) => m.role === "user");
  if (typeof last?.content === "string") return last.content;
  if (Array.isArray(last?.content)) return last.content.map((p: { text?: string }) => p.text ?? "").join("");
  return undefined;
}

/** `n` near-equal pieces (fewer when the text is shorter). */
function split(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.min(n, chars.length);
  const pieces: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const size = Math.floor(chars.length / count) + (i < chars.length % count ? 1 : 0);
    pieces.push(chars.slice(at, at + size).join(""));
    at += size;
  }
  return pieces;
}
