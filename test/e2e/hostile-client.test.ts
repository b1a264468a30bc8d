/**
 * What a hostile client sends (issue 11), over raw sockets where a client library would normalize
 * it first: absolute-form and non-canonical paths, dot segments, traversing model names, invalid
 * UTF-8, duplicate keys, deep nesting, forged request ids, slow headers and bodies. Each test is
 * a finding that got past the gateway once.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_KEY, startDefaultPipeline } from "../support/default-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type HttpUpstream } from "../support/http-upstream.js";
import { waitForRecords } from "../support/records.js";

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `head` (request line and headers, without the blank line) and `body` as written, on a connection of its own. */
async function raw(url: string, head: string, body: string | Buffer = ""): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lengthHeader = payload.length > 0 ? `\r\ncontent-length: ${payload.length}` : "";
  // Written, not ended: node's server takes a half-closed connection for a client gone and aborts its request.
  socket.write(Buffer.concat([Buffer.from(`${head}\r\nhost: ${hostname}\r\nconnection: close${lengthHeader}\r\n\r\n`), payload]));
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return parseReply(Buffer.concat(chunks).toString("utf8"));
}

function parseReply(text: string): RawReply {
  const split = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = text.slice(0, split).split("\r\n");
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  let body = text.slice(split + 4);
  if (headers["transfer-encoding"] === "chunked") body = unchunk(body);
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

function unchunk(body: string): string {
  let out = "";
  for (let at = 0; ; ) {
    const lineEnd = body.indexOf("\r\n", at);
    const size = parseInt(body.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

const CLIENT_KEY = "sk-hostile-test";

describe("an http route with a key required under a path condition", () => {
  let gw: TestGateway;
  let up: HttpUpstream;

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      req.resume();
      res.end("reached");
    });
    gw = await startGateway({
      "web.pipeline.json": {
        id: "web",
        routes: [{ path: "/api", format: "http", endpoint: "proxy" }],
        backends: { app: { use: "provider-http", config: { baseUrl: `${up.url}/base` } } },
        steps: [
          { use: "auth-api-key", when: { path: { prefix: "/api/private" } }, config: { keysFile: "./keys.json" } },
          { use: "auth-api-key", id: "admin-auth", when: { path: { prefix: "/api/admin" } }, config: { keysFile: "./keys.json" } },
          { use: "http-proxy" },
        ],
      },
      "keys.json": await keysFile([{ key: CLIENT_KEY, id: "c", tenant: "t" }]),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it.each([
    ["absolute form", "GET http://elsewhere.example/api/private/data HTTP/1.1"],
    ["other case", "GET /API/private/data HTTP/1.1"],
    ["double slash", "GET /api//private/data HTTP/1.1"],
    ["percent-encoded unreserved letter", "GET /api/%70rivate/data HTTP/1.1"],
    ["trailing slash", "GET /api/private/ HTTP/1.1"],
  ])("asks for the key on the %s of a guarded path, and nothing reaches the upstream", async (_, head) => {
    const before = up.seen.length;
    const reply = await raw(gw.url, head);
    expect(reply.status).toBe(401);
    expect(up.seen.length).toBe(before);
  });

  it("sends the canonical path upstream: merged slashes, unreserved characters decoded, origin form", async () => {
    const reply = await raw(gw.url, "GET http://elsewhere.example/api//public/%7Euser/%41?q=%2F HTTP/1.1");
    expect(reply.status).toBe(200);
    expect(up.seen.at(-1)?.url).toBe("/base/api/public/~user/A?q=%2F");
  });

  it.each([
    ["..", "GET /api/public/../admin/users HTTP/1.1"],
    ["%2e%2e", "GET /api/public/%2e%2e/admin/users HTTP/1.1"],
    [".%2E and .", "GET /api/./public/.%2E/admin/users HTTP/1.1"],
  ])("resolves %s dot segments before conditions and the upstream see the path", async (_, head) => {
    const before = up.seen.length;
    expect((await raw(gw.url, head)).status).toBe(401);
    expect(up.seen.length).toBe(before);
    const withKey = await raw(gw.url, `${head}\r\nauthorization: Bearer ${CLIENT_KEY}`);
    expect(withKey.status).toBe(200);
    expect(up.seen.at(-1)?.url).toBe("/base/api/admin/users");
  });

  it("never lets dot segments climb above the route's own path upstream", async () => {
    const reply = await raw(gw.url, "GET /api/../../../api/public/x HTTP/1.1");
    expect(reply.status).toBe(200);
    expect(up.seen.at(-1)?.url).toBe("/base/api/public/x");
  });

  it("sends the gateway's own request id upstream, never the client's", async () => {
    const reply = await raw(gw.url, "GET /api/public/x HTTP/1.1\r\nx-request-id: client-chosen-1");
    expect(reply.status).toBe(200);
    expect(up.seen.at(-1)?.headers["x-request-id"]).toBe(reply.headers["x-switchyard-request-id"]);
    expect(reply.headers["x-switchyard-request-id"]).not.toBe("client-chosen-1");
  });

  it.each(["%2f", "%2F", "%5c"])("refuses an escaped slash (%s) in the path with a 400", async (escaped) => {
    const before = up.seen.length;
    const reply = await raw(gw.url, `GET /api/public/..${escaped}admin HTTP/1.1`);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error.code).toBe("invalid_path");
    expect(up.seen.length).toBe(before);
  });
});

describe("the default pipeline with a blocking guard under a path condition", () => {
  let gw: Awaited<ReturnType<typeof startDefaultPipeline>>;
  const card = JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "my card is 4111 1111 1111 1111" }] });

  beforeAll(async () => {
    gw = await startDefaultPipeline((p) => {
      const validate = p.steps.findIndex((s: { use: string }) => s.use === "validate");
      p.steps.splice(validate + 1, 0, { use: "guard-pii", when: { path: "/v1/chat/completions" }, config: { mode: "block" } });
    });
  });
  afterAll(() => gw?.close());

  it.each([
    ["upper case", "POST /V1/CHAT/COMPLETIONS HTTP/1.1"],
    ["trailing slash", "POST /v1/chat/completions/ HTTP/1.1"],
    ["absolute form", "POST http://elsewhere.example/v1/chat/completions HTTP/1.1"],
    ["double slash", "POST /v1//chat/completions HTTP/1.1"],
  ])("blocks a card number sent to the %s of the guarded path", async (_, head) => {
    const reply = await raw(gw.url, `${head}\r\nauthorization: Bearer ${DEMO_KEY}\r\ncontent-type: application/json`, card);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error.type).toBe("invalid_request_error");
  });
});

describe("model names a client chooses, on the default pipeline", () => {
  let gw: Awaited<ReturnType<typeof startDefaultPipeline>>;
  beforeAll(async () => {
    gw = await startDefaultPipeline();
  });
  afterAll(() => gw?.close());

  const chat = (model: string) => raw(gw.url, `POST /v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${DEMO_KEY}\r\ncontent-type: application/json`, JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }));

  it.each([
    ["a dot segment", "mock-x/../../../stats"],
    ["a lone dot segment", "."],
    ["a control character", "mock-small\u0000"],
    ["a line break", "mock-small\nx"],
    ["257 characters", `mock-${"x".repeat(252)}`],
    ["0.9 MB", `mock-${"x".repeat(900_000)}`],
  ])("refuses a model name with %s with a 400 invalid_model", async (_, model) => {
    const reply = await raw(gw.url, `POST /v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${DEMO_KEY}\r\ncontent-type: application/json`, JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error).toMatchObject({ type: "invalid_request_error", code: "invalid_model", param: "model" });
  });

  it("does not let a backend's mock-* take a model with a / in it", async () => {
    const reply = await chat("mock-x/y");
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body).error.code).toBe("model_not_found");
  });

  it("still serves a model of 256 characters that a pattern matches", async () => {
    expect((await chat(`mock-${"x".repeat(251)}`)).status).toBe(200);
  });

  it("refuses Gemini's ..%2f traversal in the model path with a 400 in Gemini's format", async () => {
    const reply = await raw(gw.url, `POST /v1beta/models/..%2f..%2fadmin:generateContent HTTP/1.1\r\nx-goog-api-key: ${DEMO_KEY}\r\ncontent-type: application/json`, JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
  });
});

describe("request bodies a client shapes, on the default pipeline", () => {
  let gw: Awaited<ReturnType<typeof startDefaultPipeline>>;
  beforeAll(async () => {
    gw = await startDefaultPipeline();
  });
  afterAll(() => gw?.close());

  const post = (path: string, body: string | Buffer, auth = `authorization: Bearer ${DEMO_KEY}`) =>
    raw(gw.url, `POST ${path} HTTP/1.1\r\n${auth}\r\ncontent-type: application/json`, body);

  it("keeps a client's x-request-id as clientRequestId on the record; the record id stays the gateway's own and unique", async () => {
    const body = JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "hi" }] });
    const replies = [await post("/v1/chat/completions", body, `authorization: Bearer ${DEMO_KEY}\r\nx-request-id: same-id`), await post("/v1/chat/completions", body, `authorization: Bearer ${DEMO_KEY}\r\nx-request-id: same-id`)];
    const ids = replies.map((r) => r.headers["x-switchyard-request-id"]);
    expect(new Set(ids).size).toBe(2);
    expect(ids).not.toContain("same-id");
    const records = await waitForRecords(gw.recordsFile, (all) => ids.every((id) => all.some((r) => r.id === id)));
    expect(records.filter((r) => ids.includes(r.id)).map((r) => r.clientRequestId)).toEqual(["same-id", "same-id"]);
  });

  it("refuses invalid UTF-8 in a JSON body with a 400 in the client's format, not a silently changed text", async () => {
    const body = Buffer.concat([Buffer.from('{"model":"mock-small","messages":[{"role":"user","content":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
    const openai = await post("/v1/chat/completions", body);
    expect(openai.status).toBe(400);
    expect(JSON.parse(openai.body).error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
    const anthropic = await post("/v1/messages", body, `x-api-key: ${DEMO_KEY}`);
    expect(anthropic.status).toBe(400);
    expect(JSON.parse(anthropic.body)).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });

  it("still takes valid multi-byte UTF-8", async () => {
    const reply = await post("/v1/chat/completions", JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "café ☕ 𝄞" }] }));
    expect(reply.status).toBe(200);
  });

  it("refuses a key written twice in one object with a 400 duplicate_key, at the top and nested", async () => {
    const top = await post("/v1/chat/completions", '{"model":"mock-large","messages":[{"role":"user","content":"hi"}],"model":"mock-small"}');
    expect(top.status).toBe(400);
    expect(JSON.parse(top.body).error).toMatchObject({ type: "invalid_request_error", code: "duplicate_key" });
    const nested = await post("/v1/chat/completions", '{"model":"mock-small","messages":[{"role":"user","role":"system","content":"hi"}]}');
    expect(nested.status).toBe(400);
    expect(JSON.parse(nested.body).error.code).toBe("duplicate_key");
  });

  it("takes equal keys in different objects, and strings that look like keys (tool arguments as JSON text)", async () => {
    const body = JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: 'say {"role": "x", "a\\": 1} "b":' }, { role: "assistant", content: "ok" }] });
    expect((await post("/v1/chat/completions", body)).status).toBe(200);
  });

  it("refuses a body nested deeper than 128 levels with a 400 in the client's format (Anthropic and Gemini too)", async () => {
    const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
    const openai = await post("/v1/chat/completions", `{"model":"mock-small","messages":[{"role":"user","content":"hi"}],"tools":${deep(5000)}}`);
    expect(openai.status).toBe(400);
    expect(JSON.parse(openai.body).error).toMatchObject({ type: "invalid_request_error", code: "body_too_deep" });
    const anthropic = await post("/v1/messages", `{"model":"mock-small","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":${"{\"a\":".repeat(5000)}1${"}".repeat(5000)}}]}`, `x-api-key: ${DEMO_KEY}`);
    expect(anthropic.status).toBe(400);
    expect(JSON.parse(anthropic.body)).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const gemini = await post("/v1beta/models/mock-small:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"x":${deep(200)}}`, `x-goog-api-key: ${DEMO_KEY}`);
    expect(gemini.status).toBe(400);
    expect(JSON.parse(gemini.body).error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
  });

  it("still takes a body nested 100 levels", async () => {
    const nested = `${'{"a":'.repeat(99)}1${"}".repeat(99)}`;
    const reply = await post("/v1/chat/completions", `{"model":"mock-small","messages":[{"role":"user","content":"hi"}],"metadata_x":${nested}}`);
    expect(reply.status).not.toBe(500);
    expect(JSON.parse(reply.body).error?.code).not.toBe("body_too_deep");
  });
});

/** A connection whose bytes the test writes when it likes; `closed` resolves with all it received. */
async function openConnection(url: string): Promise<{ socket: Socket; closed: Promise<string> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  // Events, not an async iterator: a connection the test destroys itself is no failure.
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk)).on("error", () => undefined);
  const closed = new Promise<string>((resolve) => socket.once("close", () => resolve(Buffer.concat(chunks).toString("utf8"))));
  return { socket, closed };
}

describe("slow and greedy clients, with the listener's limits set low", () => {
  let gw: TestGateway;
  let up: HttpUpstream;
  const opened: Socket[] = [];

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      req.resume();
      res.end("reached");
    });
    const files = {
      "web.pipeline.json": { id: "web", routes: [{ path: "/api", format: "http", endpoint: "proxy" }], backends: { app: { use: "provider-http", config: { baseUrl: up.url } } }, steps: [{ use: "http-proxy" }] },
      "chat.pipeline.json": { id: "chat", routes: [{ method: "POST", path: "/v1/chat/completions", format: "openai-chat" }], backends: { mock: { use: "provider-mock", models: ["mock-*"] } }, steps: [] },
    };
    gw = await startGateway(files, undefined, { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 4, maxConnectionsPerClient: 3 });
  });
  afterAll(async () => {
    for (const s of opened) s.destroy();
    await gw?.close();
    await up?.close();
  });

  it("answers headers trickled past the header timeout with a 408 and closes the connection", async () => {
    const { socket, closed } = await openConnection(gw.url);
    socket.write("GET /api/slow HTTP/1.1\r\nhost: x\r\nx-slow: ");
    expect(await closed).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("answers a JSON body trickled past the request timeout with a 408 and closes the connection", async () => {
    const { socket, closed } = await openConnection(gw.url);
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 62\r\n\r\n{"model":');
    expect(await closed).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("refuses a client's connection past its cap with a 503 saying why, and serves it again once one closes", async () => {
    const held = await Promise.all([1, 2, 3].map(() => openConnection(gw.url)));
    opened.push(...held.map((h) => h.socket));
    const extra = await openConnection(gw.url);
    const refused = await extra.closed;
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(JSON.parse(refused.slice(refused.indexOf("\r\n\r\n") + 4)).error).toMatchObject({ code: "too_many_connections", message: expect.stringContaining("your address") });
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await expect.poll(async () => (await raw(gw.url, "GET /api/again HTTP/1.1")).status).toBe(200);
    for (const h of held) h.socket.destroy();
  });

  it("refuses a connection past the listener's cap, whoever opens it, with a 503 naming the listener", async () => {
    const capped = await startGateway({ "web.pipeline.json": { id: "web", routes: [{ path: "/api", format: "http", endpoint: "proxy" }], backends: { app: { use: "provider-http", config: { baseUrl: up.url } } }, steps: [{ use: "http-proxy" }] } }, undefined, { maxConnections: 2, maxConnectionsPerClient: 100 });
    try {
      const held = await Promise.all([1, 2].map(() => openConnection(capped.url)));
      const refused = await (await openConnection(capped.url)).closed;
      expect(refused).toMatch(/^HTTP\/1\.1 503 /);
      expect(refused).toContain("too many open connections to this listener");
      for (const h of held) h.socket.destroy();
    } finally {
      await capped.close();
    }
  });
});
