/**
 * `switchyard serve` stopping with WebSocket sessions open: they run on through the drain, get a
 * close frame 1001 "going away" once its deadline passes (after any message already queued, never
 * a cut socket), and each leaves its record before the process exits.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { serve } from "../support/cli-process.js";
import { readWholeRecords } from "../support/records.js";
import { within } from "../support/wait.js";
import { closed, openClient, startWsUpstream, type WsUpstream } from "../support/ws-upstream.js";

const SESSIONS = 50;
let up: WsUpstream | undefined;
afterEach(async () => {
  await up?.close();
});

function reply(socket: WebSocket): Promise<string> {
  return new Promise((resolve) => socket.once("message", (data: Buffer) => resolve(data.toString())));
}

describe("switchyard serve on SIGTERM with WebSocket sessions open", () => {
  it(`keeps ${SESSIONS} sessions running through the drain, then closes each with 1001 and records every one`, async () => {
    up = await startWsUpstream();
    const dir = await mkdtemp(join(tmpdir(), "switchyard-ws-drain-"));
    await writeFile(join(dir, "live.pipeline.json"), JSON.stringify({
      id: "live",
      routes: [{ path: "/live", format: "http", endpoint: "proxy" }],
      backends: { echo: { use: "provider-http", config: { baseUrl: up.url } } },
      steps: [{ use: "http-proxy" }, { use: "record-jsonl", config: { path: "./records.jsonl", flushIntervalMs: 60_000 } }],
    }));
    const gw = await serve([dir, "--drain-ms", "4000"], { LOG_LEVEL: "info" });
    const ws = gw.url.replace(/^http/, "ws");
    const clients = await Promise.all(Array.from({ length: SESSIONS }, () => openClient(`${ws}/live`)));
    const closes = clients.map((client) => closed(client));
    gw.child.kill("SIGTERM");
    await gw.waitForStderr(/"msg":"draining"/);
    // Draining, and every session still carries messages both ways.
    const answers = await Promise.all(clients.map((client, i) => {
      const answer = reply(client);
      client.send(`still here ${i}`);
      return answer;
    }));
    expect(answers).toEqual(clients.map((_, i) => `still here ${i}`));
    const codes = await within(Promise.all(closes), "every session's close", 20_000);
    expect(codes.every(({ code, reason }) => code === 1001 && reason === "going away")).toBe(true);
    expect(await within(gw.exited, "switchyard exiting after its drain", 20_000)).toBe(0);
    expect(gw.stderr()).toMatch(new RegExp(`"unfinished":${SESSIONS},"msg":"stopped"`));
    const { records } = await readWholeRecords(join(dir, "records.jsonl"));
    expect(records).toHaveLength(SESSIONS);
    for (const record of records) {
      expect(record).toMatchObject({ status: 101, backend: "echo", session: { endedBy: "drain", framesUp: 1, framesDown: 1, clientCloseCode: 1001 } });
    }
  });
});
