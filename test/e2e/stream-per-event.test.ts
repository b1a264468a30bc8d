import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { readWholeRecords } from "../support/records.js";

// An upstream that writes every SSE event on its own, as real providers do, each write a turn of
// the event loop after the previous one: a passed-through stream then reaches the relay about one
// event per chunk, and events cut across writes and comment lines must still come out unchanged.
const frame = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
const base = { id: "c1", object: "chat.completion.chunk", created: 1, model: "m" };
const ROLE = frame({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
const TEXT = (t: string) => frame({ ...base, choices: [{ index: 0, delta: { content: t }, finish_reason: null }] });
const FINISH = frame({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
const USAGE = frame({ ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } });
const DONE = "data: [DONE]\n\n";
const ERROR = frame({ error: { message: "upstream key sk-upstream-secret-123 failed", type: "server_error" } });

/** The writes each model name makes the upstream send, one at a time. */
const SCRIPTS: Record<string, string[]> = {
  // A comment line and an event cut in two across writes sit among whole events.
  plain: [ROLE, TEXT("one "), ": a comment\n\n", TEXT("two ").slice(0, 30), TEXT("two ").slice(30), TEXT("three"), FINISH, USAGE, DONE],
  failing: [ROLE, TEXT("one "), ERROR, TEXT("never"), FINISH, USAGE, DONE],
};

async function writeOneByOne(res: ServerResponse, writes: string[]): Promise<void> {
  for (const w of writes) {
    if (!res.write(w)) await new Promise((r) => res.once("drain", r));
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

describe("a passed-through stream whose upstream writes each event on its own", () => {
  let upstream: Server;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString()));
      req.on("end", () => {
        const model = (JSON.parse(raw) as { model: string }).model;
        res.writeHead(200, { "content-type": "text/event-stream" });
        void writeOneByOne(res, SCRIPTS[model]!);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    gw = await startGateway({
      "one.pipeline.json": {
        id: "one",
        routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
        backends: { up: { use: "provider-openai", config: { baseUrl: url } } },
        steps: [
          { use: "auth-api-key", config: { keysFile: "./keys.json" } },
          { use: "translate" },
          { use: "stream-sse" },
          { use: "record-jsonl", config: { path: "./records.jsonl", batchSize: 1 } },
        ],
        timeouts: { totalMs: 5000 },
      },
      "keys.json": await keysFile([{ key: "sk-one", id: "k", tenant: "t" }]),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await new Promise((r) => upstream?.close(r));
  });

  async function stream(model: string, includeUsage: boolean) {
    const body = { model, stream: true, messages: [{ role: "user", content: "hi" }], ...(includeUsage ? { stream_options: { include_usage: true } } : {}) };
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-one" },
      body: JSON.stringify(body),
      headersTimeout: 3000,
      bodyTimeout: 3000,
    });
    return { status: res.statusCode, id: res.headers["x-switchyard-request-id"], text: await res.body.text() };
  }

  async function usageOf(id: unknown) {
    await gw.server.recordsWritten();
    const { records } = await readWholeRecords(join(gw.dir, "records.jsonl"));
    return records.find((r: { id: string }) => r.id === id)?.usage;
  }

  it("relays the upstream's bytes unchanged when the client asked for usage, and records the usage", async () => {
    const r = await stream("plain", true);
    expect(r.status).toBe(200);
    expect(r.text).toBe(SCRIPTS.plain!.join(""));
    expect(await usageOf(r.id)).toMatchObject({ inputTokens: 3, outputTokens: 4 });
  });

  it("drops only the usage chunk the client did not ask for, and still records the usage", async () => {
    const r = await stream("plain", false);
    expect(r.status).toBe(200);
    expect(r.text).toBe(SCRIPTS.plain!.filter((w) => w !== USAGE).join(""));
    expect(await usageOf(r.id)).toMatchObject({ inputTokens: 3, outputTokens: 4 });
  });

  it("ends the stream with the gateway's own error event in place of the upstream's, whose key never reaches the client", async () => {
    const r = await stream("failing", true);
    expect(r.status).toBe(200);
    expect(r.text.startsWith(ROLE + TEXT("one "))).toBe(true);
    expect(r.text).toContain('"type":"api_error"');
    expect(r.text).not.toContain("sk-upstream-secret-123");
    expect(r.text).not.toContain("never");
  });
});
