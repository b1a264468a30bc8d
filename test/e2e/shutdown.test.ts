/**
 * `switchyard serve` as a process: its probes while it serves, and how it stops on SIGTERM and
 * SIGINT (open streams finish, records are flushed, new connections are refused, exit code 0) or
 * cuts what is still open when --drain-ms runs out.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { serve } from "../support/cli-process.js";
import { keysFile } from "../support/gateway.js";
import { readWholeRecords } from "../support/records.js";
import { waitUntil, within } from "../support/wait.js";

/** A served pipeline whose mock backend streams ten chunks, `chunkDelayMs` apart. */
async function drainPipeline(chunkDelayMs: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-shutdown-"));
  await writeFile(join(dir, "keys.json"), JSON.stringify(await keysFile([{ key: "sk-drain", id: "k", tenant: "t" }])));
  await writeFile(join(dir, "drain.pipeline.json"), JSON.stringify({
    id: "drain",
    routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
    backends: { mock: { use: "provider-mock", config: { reply: "one two three four five six seven eight nine ten", chunks: 10, chunkDelayMs } } },
    timeouts: { idleMs: 600_000, totalMs: 600_000 },
    steps: [
      { use: "auth-api-key", config: { keysFile: "./keys.json" } },
      { use: "stream-sse", config: { idleTimeoutMs: 600_000, keepAliveMs: 0 } },
      { use: "record-jsonl", config: { path: "./records.jsonl", flushIntervalMs: 60000 } },
    ],
  }));
  return dir;
}

const openStream = (url: string) =>
  request(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-drain", "content-type": "application/json" },
    body: JSON.stringify({ model: "mock", stream: true, messages: [{ role: "user", content: "count" }] }),
  });

describe("switchyard serve while serving", () => {
  it("answers /healthz 200 ok and /readyz 200 ready with its stores' status", async () => {
    const gw = await serve([await drainPipeline(0)]);
    try {
      const health = await request(`${gw.url}/healthz`);
      expect(health.statusCode).toBe(200);
      expect(await health.body.json()).toEqual({ status: "ok" });
      const ready = await request(`${gw.url}/readyz`);
      expect(ready.statusCode).toBe(200);
      expect(await ready.body.json()).toMatchObject({ status: "ready", stores: { drain: expect.anything() } });
    } finally {
      gw.child.kill("SIGTERM");
      expect(await gw.exited).toBe(0);
    }
  });
});

describe.each(["SIGTERM", "SIGINT"] as const)("switchyard serve on %s", (signal) => {
  it("lets an open stream finish, writes its record, refuses new connections and exits 0", async () => {
    const dir = await drainPipeline(100);
    const gw = await serve([dir], { LOG_LEVEL: "info" });
    const res = await openStream(gw.url);
    expect(res.statusCode).toBe(200);
    const id = res.headers["x-switchyard-request-id"];
    let text = "";
    let signalled = false;
    for await (const chunk of res.body) {
      text += chunk.toString();
      if (!signalled) {
        signalled = true;
        gw.child.kill(signal);
        await gw.waitForStderr(/"msg":"draining"/);
        // The log line can reach us a moment before the listening socket closes (pino writes from
        // another thread), so a first probe may still be reset; from then on every fresh
        // connection is refused. No probe is ever answered "ready".
        const probes: string[] = [];
        await waitUntil(async () => {
          const fresh = new Agent();
          const outcome = await request(`${gw.url}/readyz`, { dispatcher: fresh }).then((r) => `HTTP ${r.statusCode}`, (e: NodeJS.ErrnoException) => e.code ?? String(e));
          await fresh.close();
          probes.push(outcome);
          return outcome === "ECONNREFUSED";
        }, () => `probes after the drain began: ${probes.join(", ")}`);
        expect(probes).not.toContain("HTTP 200");
        expect(gw.child.exitCode).toBeNull();
      }
    }
    expect(text).toContain("data: [DONE]");
    expect(text).toContain("ten");
    expect(await gw.exited).toBe(0);
    // flushIntervalMs is a minute: the record is there because shutdown flushed it.
    const { records, partial } = await readWholeRecords(join(dir, "records.jsonl"));
    expect(partial).toBe("");
    expect(records.find((r) => r.id === id)).toMatchObject({ status: 200, stream: true, pipeline: "drain" });
    expect(gw.stderr()).toMatch(/"unfinished":0,"msg":"stopped"/);
  });
});

describe("switchyard serve --drain-ms", () => {
  it("cuts a stream still open when the drain deadline passes, records it as cut and exits 0", async () => {
    // Ten chunks a minute apart: the stream cannot finish within the 300 ms drain.
    const dir = await drainPipeline(60_000);
    const gw = await serve([dir, "--drain-ms", "300"], { LOG_LEVEL: "info" });
    const res = await openStream(gw.url);
    expect(res.statusCode).toBe(200);
    const id = res.headers["x-switchyard-request-id"];
    let text = "";
    const read = (async () => {
      for await (const chunk of res.body) {
        text += chunk.toString();
        gw.child.kill("SIGINT");
      }
    })().then(() => "ended", (e: Error) => `failed: ${e.message}`);
    expect(await within(gw.exited, "switchyard exiting after its 300 ms drain")).toBe(0);
    await read;
    expect(text).not.toContain("[DONE]");
    expect(gw.stderr()).toContain('"msg":"drain deadline reached; closing remaining connections"');
    expect(gw.stderr()).toMatch(/"unfinished":1,"msg":"stopped"/);
    const { records } = await readWholeRecords(join(dir, "records.jsonl"));
    // Its connection was closed under it: recorded as a request whose client went away.
    expect(records.find((r) => r.id === id)).toMatchObject({ stream: true, pipeline: "drain", status: 499, error: { code: "client_closed_request" } });
  });
});
