// A fast OpenAI-compatible (and Anthropic-compatible) upstream for the bench. Every reply body is
// built once per shape and cached, so the upstream spends as little of the shared CPU as it can.
//
// Streams: the chunk count and per-chunk delay come from, first to last:
//   the x-bench-chunks / x-bench-chunk-delay-ms request headers (direct use only: a gateway does
//   not forward them), the model name (`bench-c50-d500` = 50 chunks, 500 ms apart; this is what
//   reaches the upstream through any gateway), the BENCH_CHUNKS / BENCH_CHUNK_DELAY_MS env vars.
// With no delay the whole stream goes out in one write; with a delay, the first (role) chunk goes
// out at once and each content chunk after the delay. A model name ending in `-e` (`bench-c50-d0-e`,
// `bench-c50-d1-e`) writes every SSE event on its own, as real providers do: the next one a turn of
// the event loop later (setImmediate) with no delay, else after the delay, so each reaches the
// gateway in its own read unless the gateway falls behind.
// Plain replies: `-b<bytes>` in the model name (`bench-b20480`) pads the reply's content so the whole
// body is about that many bytes; without it the reply is ~300 bytes.
//
// Usage: node bench/upstream.mjs [--port N]   prints "listening http://127.0.0.1:PORT" when ready.
import http from "node:http";

const DEFAULT_CHUNKS = Number(process.env.BENCH_CHUNKS ?? 50);
const DEFAULT_DELAY_MS = Number(process.env.BENCH_CHUNK_DELAY_MS ?? 0);
const CREATED = 1700000000;
const TEXT = "Hello from the bench upstream.";
const TOKEN = "tok ";
const PROMPT_TOKENS = 9;

const JSON_HEADERS = { "content-type": "application/json" };
const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };
const SMALL = Buffer.from(JSON.stringify({ ok: true, service: "bench-upstream", items: [1, 2, 3] }));
const NOT_FOUND = Buffer.from(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));

const cache = new Map();
function cached(key, build) {
  let v = cache.get(key);
  if (v === undefined) {
    if (cache.size > 1000) cache.clear();
    v = build();
    cache.set(key, v);
  }
  return v;
}

const sse = (obj) => `data: ${JSON.stringify(obj)}\n\n`;
const sseNamed = (obj) => `event: ${obj.type}\ndata: ${JSON.stringify(obj)}\n\n`;

/** The reply text: TEXT alone, or padded with words so the whole body built around it is about `bytes` long. */
function replyText(model, build) {
  const bytes = Number(/-b(\d+)/.exec(model)?.[1] ?? 0);
  const shortBody = build(TEXT).length;
  if (bytes <= shortBody) return TEXT;
  const words = "lorem ipsum dolor sit amet ".repeat(Math.ceil((bytes - shortBody) / 27));
  return TEXT + " " + words.slice(0, bytes - shortBody - 1);
}

function openaiPlain(model) {
  const build = (content) => JSON.stringify({
    id: "chatcmpl-bench", object: "chat.completion", created: CREATED, model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: 7, total_tokens: PROMPT_TOKENS + 7 },
  });
  return Buffer.from(build(replyText(model, build)));
}

/**
 * A stream's events as Buffers: `head` (before the content), one `content` event, `tail` (after
 * it), each a list of whole events; `whole` is head + chunks x content + tail in one Buffer.
 */
function streamParts(head, content, tail, chunks) {
  const text = (list) => list.join("");
  return {
    head: head.map((e) => Buffer.from(e)),
    content: Buffer.from(content),
    tail: tail.map((e) => Buffer.from(e)),
    whole: Buffer.from(text(head) + content.repeat(chunks) + text(tail)),
  };
}

function openaiStream(model, chunks, withUsage) {
  const base = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: CREATED, model };
  const head = [sse({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })];
  const content = sse({ ...base, choices: [{ index: 0, delta: { content: TOKEN }, finish_reason: null }] });
  const tail = [sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })];
  if (withUsage) tail.push(sse({ ...base, choices: [], usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: chunks, total_tokens: PROMPT_TOKENS + chunks } }));
  tail.push("data: [DONE]\n\n");
  return streamParts(head, content, tail, chunks);
}

function anthropicPlain(model) {
  const build = (text) => JSON.stringify({
    id: "msg_bench", type: "message", role: "assistant", model,
    content: [{ type: "text", text }], stop_reason: "end_turn", stop_sequence: null,
    usage: { input_tokens: PROMPT_TOKENS, output_tokens: 7 },
  });
  return Buffer.from(build(replyText(model, build)));
}

function anthropicStream(model, chunks) {
  const head = [
    sseNamed({ type: "message_start", message: { id: "msg_bench", type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: PROMPT_TOKENS, output_tokens: 1 } } }),
    sseNamed({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
  ];
  const content = sseNamed({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: TOKEN } });
  const tail = [
    sseNamed({ type: "content_block_stop", index: 0 }),
    sseNamed({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: chunks } }),
    sseNamed({ type: "message_stop" }),
  ];
  return streamParts(head, content, tail, chunks);
}

function streamShape(req, model) {
  const h = req.headers;
  const fromModel = /-c(\d+)(?:-d(\d+))?(-e)?/.exec(model);
  const chunks = Number(h["x-bench-chunks"] ?? fromModel?.[1] ?? DEFAULT_CHUNKS);
  const delayMs = Number(h["x-bench-chunk-delay-ms"] ?? fromModel?.[2] ?? DEFAULT_DELAY_MS);
  return { chunks, delayMs, perEvent: fromModel?.[3] !== undefined };
}

function sendStream(res, parts, { chunks, delayMs, perEvent }) {
  res.writeHead(200, SSE_HEADERS);
  if (delayMs <= 0 && !perEvent) return void res.end(parts.whole);
  // Per event: every event of head, content and tail on its own. Otherwise: the head at once,
  // each content chunk after the delay, then the tail.
  const writes = perEvent
    ? [...parts.head, ...Array(chunks).fill(parts.content), ...parts.tail]
    : [Buffer.concat(parts.head), ...Array(chunks).fill(parts.content), Buffer.concat(parts.tail)];
  const wait = delayMs > 0 ? (fn) => setTimeout(fn, delayMs) : (fn) => setImmediate(fn);
  const cancel = delayMs > 0 ? clearTimeout : clearImmediate;
  let next = 0;
  let timer;
  const tick = () => {
    const last = next === writes.length - 1;
    if (last) return void res.end(writes[next++]);
    res.write(writes[next++]);
    timer = wait(tick);
  };
  res.write(writes[next++]);
  timer = wait(tick);
  res.on("close", () => cancel(timer));
}

function reply(req, res, raw) {
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    res.writeHead(400, JSON_HEADERS);
    return void res.end(NOT_FOUND);
  }
  const model = typeof body.model === "string" ? body.model : "bench";
  const anthropic = req.url === "/v1/messages";
  if (body.stream === true) {
    const shape = streamShape(req, model);
    const withUsage = body.stream_options?.include_usage === true;
    const parts = anthropic
      ? cached(`as|${model}|${shape.chunks}`, () => anthropicStream(model, shape.chunks))
      : cached(`os|${model}|${shape.chunks}|${withUsage}`, () => openaiStream(model, shape.chunks, withUsage));
    return sendStream(res, parts, shape);
  }
  res.writeHead(200, JSON_HEADERS);
  res.end(anthropic ? cached(`ap|${model}`, () => anthropicPlain(model)) : cached(`op|${model}`, () => openaiPlain(model)));
}

const server = http.createServer((req, res) => {
  if (req.method === "GET" && (req.url === "/small" || req.url === "/readyz")) {
    res.writeHead(200, JSON_HEADERS);
    return void res.end(SMALL);
  }
  if (req.method === "POST" && (req.url === "/v1/chat/completions" || req.url === "/v1/messages")) {
    const parts = [];
    req.on("data", (c) => parts.push(c));
    req.on("end", () => reply(req, res, parts.length === 1 ? parts[0] : Buffer.concat(parts)));
    return;
  }
  req.resume();
  res.writeHead(404, JSON_HEADERS);
  res.end(NOT_FOUND);
});
// Thousands of slow streams stay open at once in scenario 5: keep the defaults out of the way.
server.keepAliveTimeout = 30_000;
server.headersTimeout = 60_000;
server.requestTimeout = 0;
server.maxHeadersCount = 100;

const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
server.listen(port, "127.0.0.1", 4096, () => {
  process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
