/**
 * Hot reload, as one timeline on a real gateway: a stream opened before a swap finishes unchanged
 * on the pipeline it started on; a request after the swap sees the new one; an invalid file keeps
 * the old one serving, its error `file:line:col` in the reload result and /admin/pipelines; the
 * breaker's state survives because the step and its backends are unchanged; one reload at a time.
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { refusingPort, startUpstream, type HttpUpstream } from "../support/http-upstream.js";
import { waitUntil, within } from "../support/wait.js";

const CLIENT_KEY = "sk-reload-client";
const ADMIN_KEY = "sk-reload-admin";
const hashOf = (key: string) => `sha256:${createHash("sha256").update(key).digest("hex")}`;

/** The pipeline file, version by version: `aliases` is what changes between v1 and v2. */
function pipeline(downPort: number, upstreamUrl: string, aliases: Record<string, string[]>, breakerConfig: Record<string, unknown> = { consecutiveFailures: 1, cooldownMs: 600_000 }) {
  return {
    id: "chat",
    routes: [
      { method: "POST", path: "/v1/chat/completions", format: "openai-chat" },
      { path: "/admin", format: "openai-chat", endpoint: "admin" },
    ],
    // "down" first in file order: every request tries it, fails to connect, and falls back to "up".
    backends: {
      down: { use: "provider-openai", models: ["m"], config: { baseUrl: `http://127.0.0.1:${downPort}/v1`, apiKey: "sk-up" } },
      up: { use: "provider-openai", models: ["m"], config: { baseUrl: `${upstreamUrl}/v1`, apiKey: "sk-up" } },
    },
    models: aliases,
    steps: [
      { use: "auth-api-key", config: { keysFile: "./keys.json" } },
      { use: "health-breaker", config: breakerConfig },
      { use: "admin-api" },
      { use: "stream-sse" },
    ],
  };
}

describe("hot reload", () => {
  let gw: TestGateway;
  let upstream: HttpUpstream;
  let downPort: number;
  /** Resolved by the test to let the held stream finish. */
  let releaseStream: () => void = () => {};
  let streamHeld: Promise<void>;
  let markHeld: () => void = () => {};
  const logLines: { msg: string; errors?: string[] }[] = [];

  beforeAll(async () => {
    downPort = await refusingPort();
    streamHeld = new Promise((resolve) => (markHeld = resolve));
    const released = new Promise<void>((resolve) => (releaseStream = resolve));
    upstream = await startUpstream(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { stream?: boolean; messages: { content: string }[] };
      const said = body.messages.at(-1)!.content;
      if (!body.stream) {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ id: "c1", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: `reply to ${said}` }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }));
        return;
      }
      // The stream sends its first part, then waits for the test to have swapped the pipelines.
      const chunk = (content: string) => `data: ${JSON.stringify({ id: "s1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunk("before the swap, "));
      markHeld();
      await released;
      res.write(chunk("after the swap."));
      res.end(`data: ${JSON.stringify({ id: "s1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`);
    });
    gw = await startGateway({
      "chat.pipeline.json": pipeline(downPort, upstream.url, {}),
      "keys.json": { keys: [{ id: "client", tenant: "t", hash: hashOf(CLIENT_KEY) }, { id: "ops", tenant: "ops", role: "admin", hash: hashOf(ADMIN_KEY) }] },
    }, undefined, undefined, pino({ level: "info" }, new Writable({ write: (chunk, _enc, done) => void (logLines.push(JSON.parse(String(chunk))), done()) })));
  });
  afterAll(async () => {
    releaseStream();
    await gw?.close();
    await upstream?.close();
  });

  const chat = (model: string, content: string, stream = false) =>
    request(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model, stream, messages: [{ role: "user", content }] }),
    });
  const admin = async (method: "GET" | "POST", path: string) => {
    const res = await request(`${gw.url}/admin/${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
  };
  const breakerOfDown = async () => ((await admin("GET", "backends")).body.backends as any[]).find((b) => b.id === "down").breaker.state as string;
  const writePipeline = (content: unknown) => writeFile(join(gw.dir, "chat.pipeline.json"), typeof content === "string" ? content : JSON.stringify(content, null, 2));

  it("swaps atomically: the open stream finishes on the old pipeline, new requests see the new one, a bad file changes nothing, breaker state lives on", async () => {
    const timeline: string[] = [];

    // v1 serves; the first request trips the breaker of "down" (a refused connection) and falls back to "up".
    const first = await chat("m", "one");
    expect(first.statusCode).toBe(200);
    await first.body.text();
    timeline.push(`v1 request: 200 via ${first.headers["x-switchyard-backend"]}`);
    timeline.push(`breaker of down: ${await breakerOfDown()}`);
    const aliasBefore = await chat("fresh", "alias before");
    timeline.push(`v1 model "fresh": ${aliasBefore.statusCode}`);
    await aliasBefore.body.text();

    // A stream opens on v1 and stays open across the swap.
    const stream = await chat("m", "stream", true);
    expect(stream.statusCode).toBe(200);
    const streamText = stream.body.text();
    await within(streamHeld, "the upstream sending the stream's first part");
    timeline.push("stream open on v1");

    // v2 adds an alias; nothing the breaker step sees changes.
    await writePipeline(pipeline(downPort, upstream.url, { fresh: ["m"] }));
    const reloaded = await admin("POST", "reload");
    expect(reloaded.status).toBe(200);
    timeline.push(`reload v2: ${reloaded.body.lastReload.ok ? "ok" : "failed"}, kept ${JSON.stringify(reloaded.body.lastReload.kept)}`);
    let v1Closed = false;
    const v1Closing = gw.reloader.retired().then(() => (v1Closed = true));

    const aliasAfter = await chat("fresh", "alias after");
    timeline.push(`v2 model "fresh": ${aliasAfter.statusCode}`);
    expect(JSON.parse(await aliasAfter.body.text()).choices[0].message.content).toBe("reply to alias after");
    timeline.push(`breaker of down after reload: ${await breakerOfDown()}`);

    // The upstream still holds the stream, so the request is in flight: v1 cannot have closed.
    timeline.push(`v1 pipelines closed while the stream is open: ${v1Closed}`);
    releaseStream();
    const text = await streamText;
    const content = text.split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? "").join("");
    timeline.push(`stream finished: "${content}"${text.trimEnd().endsWith("data: [DONE]") ? " [DONE]" : ""}`);
    await within(v1Closing, "the v1 pipelines closing once the stream ended");
    timeline.push(`v1 pipelines closed after the stream ended: ${v1Closed}`);

    // v3 is invalid: the old pipeline keeps serving and the error says where.
    const broken = JSON.stringify(pipeline(downPort, upstream.url, { fresh: ["m"] }, { consecutiveFailures: "three" }), null, 2);
    await writePipeline(broken);
    const refused = await admin("POST", "reload");
    expect(refused.status).toBe(422);
    const error = refused.body.lastReload.errors[0] as string;
    expect(error).toMatch(/chat\.pipeline\.json:\d+:\d+: health-breaker config: must be integer$/);
    const [line, col] = error.match(/chat\.pipeline\.json:(\d+):(\d+):/)!.slice(1).map(Number);
    expect(broken.split("\n")[line! - 1]!.slice(col! - 1)).toMatch(/^"three"/);
    timeline.push(`reload v3: failed, ${error.slice(error.indexOf("chat.pipeline.json"))}`);
    expect(logLines.filter((l) => l.msg.startsWith("pipeline reload failed")).map((l) => l.errors)).toEqual([[error]]);
    const shown = await admin("GET", "pipelines");
    expect(shown.body.lastReload.errors).toEqual([error]);
    const stillServing = await chat("fresh", "after the failed reload");
    timeline.push(`after failed reload, model "fresh": ${stillServing.statusCode}`);
    await stillServing.body.text();
    timeline.push(`breaker of down after failed reload: ${await breakerOfDown()}`);

    expect(timeline).toEqual([
      "v1 request: 200 via up",
      "breaker of down: open",
      'v1 model "fresh": 404',
      "stream open on v1",
      'reload v2: ok, kept {"stores":1,"backends":2,"steps":4}',
      'v2 model "fresh": 200',
      "breaker of down after reload: open",
      "v1 pipelines closed while the stream is open: false",
      'stream finished: "before the swap, after the swap." [DONE]',
      "v1 pipelines closed after the stream ended: true",
      expect.stringMatching(/^reload v3: failed, chat\.pipeline\.json:\d+:\d+: health-breaker config: must be integer$/),
      'after failed reload, model "fresh": 200',
      "breaker of down after failed reload: open",
    ]);
    console.log(`reload timeline:\n  ${timeline.join("\n  ")}`);
  });

  it("runs one reload at a time: a second asked while one runs is refused (busy: the admin API's 409) or, from the watcher and SIGHUP, waits its turn", async () => {
    await writePipeline(pipeline(downPort, upstream.url, { fresh: ["m"] }));
    const running = gw.reloader.reload("admin");
    const second = await gw.reloader.reload("admin");
    expect(second).toBe("busy");
    expect((await running) as { ok: boolean }).toMatchObject({ ok: true });
    // reloadAfterCurrent (the watcher's and SIGHUP's way) waits instead of being refused.
    const a = gw.reloader.reload("admin");
    const b = gw.reloader.reloadAfterCurrent("signal");
    expect([(await a) !== "busy" && (await a as { trigger: string }).trigger, (await b).trigger]).toEqual(["admin", "signal"]);
  });

  it("reloads when a pipeline file in the watched folder changes", async () => {
    await gw.reloader.watch();
    await writePipeline(pipeline(downPort, upstream.url, { fresh: ["m"], watched: ["m"] }));
    await waitUntil(() => gw.reloader.lastReload()?.trigger === "watch", () => `last reload: ${JSON.stringify(gw.reloader.lastReload())}`);
    const res = await chat("watched", "via the watcher");
    expect(res.statusCode).toBe(200);
    await res.body.text();
  });
});
