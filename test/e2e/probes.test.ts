/**
 * The probes Kubernetes asks (/livez, /startupz, /readyz; /healthz stays), readiness following a
 * fail-closed store's outage (draining: test/e2e/shutdown.test.ts), and `switchyard serve` reloading its pipelines on SIGHUP.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { serve } from "../support/cli-process.js";
import { assembleGateway } from "../../cli/assemble.js";
import { GatewayServer } from "../../core/serve/server.js";
import { silentLogger } from "../../lib/log.js";
import { builtInRegistry, keysFile, startGateway } from "../support/gateway.js";
import { refusingPort } from "../support/http-upstream.js";
import { waitUntil } from "../support/wait.js";

const probe = async (url: string) => {
  const res = await request(url);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
};

/** A pipeline whose store is a Redis nobody answers, with the given outage policy. */
const storeDownPipeline = (port: number, onUnavailable: "fail-open" | "fail-closed") => ({
  id: `store-${onUnavailable}`,
  routes: [{ path: `/${onUnavailable}/v1/chat/completions`, format: "openai-chat" }],
  backends: { mock: { use: "provider-mock" } },
  store: { kind: "redis", url: `redis://127.0.0.1:${port}`, onUnavailable, connectTimeoutMs: 50 },
  steps: [{ use: "stream-sse" }],
});

describe("probes", () => {
  it("answers /livez, /startupz, /readyz and /healthz while serving", async () => {
    const gw = await startGateway({ "p.pipeline.json": { id: "p", routes: [{ path: "/v1/chat/completions", format: "openai-chat" }], backends: { mock: { use: "provider-mock" } }, steps: [] } });
    try {
      expect(await probe(`${gw.url}/livez`)).toEqual({ status: 200, body: { status: "ok" } });
      expect(await probe(`${gw.url}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
      expect(await probe(`${gw.url}/startupz`)).toEqual({ status: 200, body: { status: "started" } });
      expect(await probe(`${gw.url}/readyz`)).toMatchObject({ status: 200, body: { status: "ready", stores: { p: expect.objectContaining({ kind: "memory", health: "ok" }) } } });
    } finally {
      await gw.close();
    }
  });

  it("says starting and loading while it listens before its pipelines are mounted, as switchyard serve does", async () => {
    const server = new GatewayServer([], { log: silentLogger });
    const { port } = await server.listen(0, "127.0.0.1");
    const url = `http://127.0.0.1:${port}`;
    try {
      expect(await probe(`${url}/livez`)).toEqual({ status: 200, body: { status: "ok" } });
      expect(await probe(`${url}/startupz`)).toEqual({ status: 503, body: { status: "starting" } });
      expect(await probe(`${url}/readyz`)).toMatchObject({ status: 503, body: { status: "loading" } });
      const dir = await mkdtemp(join(tmpdir(), "switchyard-startup-"));
      await writeFile(join(dir, "p.pipeline.json"), JSON.stringify({ id: "p", routes: [{ path: "/v1/chat/completions", format: "openai-chat" }], backends: { mock: { use: "provider-mock" } }, steps: [] }));
      const assembled = await assembleGateway([dir], { registry: await builtInRegistry(), log: silentLogger, server });
      expect(assembled.ok).toBe(true);
      expect(await probe(`${url}/startupz`)).toEqual({ status: 200, body: { status: "started" } });
      expect(await probe(`${url}/readyz`)).toMatchObject({ status: 200, body: { status: "ready" } });
    } finally {
      await server.drain(1_000);
    }
  });

  it("is not ready while a fail-closed store is down; a fail-open store's outage is only reported", async () => {
    const port = await refusingPort();
    const open = await startGateway({ "a.pipeline.json": storeDownPipeline(port, "fail-open") });
    try {
      expect(await probe(`${open.url}/readyz`)).toMatchObject({ status: 200, body: { status: "ready", stores: { "store-fail-open": expect.objectContaining({ health: "unavailable" }) } } });
      expect((await probe(`${open.url}/livez`)).status).toBe(200);
    } finally {
      await open.close();
    }
    const closed = await startGateway({ "b.pipeline.json": storeDownPipeline(port, "fail-closed") });
    try {
      expect(await probe(`${closed.url}/readyz`)).toMatchObject({ status: 503, body: { status: "store_unavailable" } });
      expect((await probe(`${closed.url}/livez`)).status).toBe(200);
      expect((await probe(`${closed.url}/startupz`)).status).toBe(200);
    } finally {
      await closed.close();
    }
  });
});

describe("switchyard serve on SIGHUP", () => {
  it("reloads the pipeline files: a changed secret file behind a backend's config takes effect, and the gateway keeps serving", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-sighup-"));
    await writeFile(join(dir, "keys.json"), JSON.stringify(await keysFile([{ key: "sk-hup", id: "k", tenant: "t" }])));
    // The watcher follows *.pipeline.json only: a change to reply.txt is picked up by SIGHUP alone.
    await writeFile(join(dir, "reply.txt"), "before the hangup");
    await writeFile(join(dir, "hup.pipeline.json"), JSON.stringify({
      id: "hup",
      routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
      backends: { mock: { use: "provider-mock", config: { reply: "${file:./reply.txt}" } } },
      steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }],
    }));
    const gw = await serve([dir]);
    const reply = async () => {
      const res = await request(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer sk-hup", "content-type": "application/json" },
        body: JSON.stringify({ model: "mock", messages: [{ role: "user", content: "hi" }] }),
      });
      return ((await res.body.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
    };
    try {
      expect(await reply()).toBe("before the hangup");
      await writeFile(join(dir, "reply.txt"), "after the hangup");
      gw.child.kill("SIGHUP");
      await waitUntil(async () => (await reply()) === "after the hangup", () => "the new reply after SIGHUP");
    } finally {
      gw.child.kill("SIGTERM");
      expect(await gw.exited).toBe(0);
    }
  });
});
