import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { serve, type ServeProcess } from "../support/cli-process.js";
import { freePort } from "../support/free-port.js";
import { skipWithoutRedis, startRedisServer } from "../support/redis-server.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";

const root = join(import.meta.dirname, "..", "..");
const DEMO_KEY = "sk-switchyard-demo";

let serviceAccountKey: string | undefined;
/**
 * A Google service account key for the cloud-providers example's check, made once per file: an
 * RSA key takes a quarter of a second of CPU (more on a loaded machine) and blocks the worker.
 */
function exampleServiceAccountKey(): string {
  serviceAccountKey ??= JSON.stringify({
    type: "service_account", client_email: "gw@example-project.iam.gserviceaccount.com",
    private_key: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  });
  return serviceAccountKey;
}

describe("examples/", () => {
  let upstream: OpenAiUpstream;
  let gw: ServeProcess;

  beforeAll(async () => {
    upstream = await startOpenAiUpstream({ reply: "from the example upstream" });
    gw = await serve([join(root, "examples/openai-compatible.pipeline.json")], { OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: "sk-example-upstream" });
  });
  afterAll(async () => {
    gw?.child.kill("SIGTERM");
    await gw?.exited;
    await upstream?.close();
  });

  it.each(["openai-compatible", "multi-provider", "governed", "mcp", "cloud-providers", "cached"])("%s passes switchyard check", async (name) => {
    const serviceAccountKey = exampleServiceAccountKey();
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const env = {
        ...process.env, OPENAI_BASE_URL: "https://api.openai.com/v1", OPENAI_API_KEY: "sk-x", OPENAI_API_KEY_2: "sk-y", ANTHROPIC_API_KEY: "sk-ant-x", REDIS_URL: "redis://127.0.0.1:6379", DATABASE_URL: "postgres://u@127.0.0.1/db", MCP_REMOTE_URL: "http://127.0.0.1:8931/mcp",
        AWS_ACCESS_KEY_ID: "AKIDEXAMPLECHECK0001", AWS_SECRET_ACCESS_KEY: "example-secret", GOOGLE_CLOUD_PROJECT: "example-project", GOOGLE_SERVICE_ACCOUNT_KEY: serviceAccountKey,
      };
      const child = spawn(process.execPath, [join(root, "dist/cli/main.js"), "check", `examples/${name}.pipeline.json`], { cwd: root, env });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d));
      child.stderr.on("data", (d: Buffer) => (out += d));
      // "close", not "exit": only then has all the output been read from the pipes.
      child.once("close", (code) => resolve({ code, out }));
    });
    expect(r.out).toContain(`ok: examples/${name}.pipeline.json`);
    expect(r.code).toBe(0);
  });

  it("serve the OpenAI-compatible example, whose custom plugin (loaded by path) guards a header", async () => {
    const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    const headers = { authorization: `Bearer ${DEMO_KEY}`, "content-type": "application/json" };
    const refused = await request(`${gw.url}/v1/chat/completions`, { method: "POST", headers, body });
    expect(refused.statusCode).toBe(400);
    expect(await refused.body.json()).toMatchObject({ error: { type: "invalid_request_error", code: "missing_header" } });
    const ok = await request(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { ...headers, "x-team": "search" }, body });
    expect(ok.statusCode).toBe(200);
    expect(((await ok.body.json()) as any).choices[0].message.content).toBe("from the example upstream");
    expect(upstream.requests.at(-1)!.headers.authorization).toBe("Bearer sk-example-upstream");
  });

  it.skipIf(skipWithoutRedis())("serve the cached example: the second identical request is a hit, one upstream call", async () => {
    const redis = await startRedisServer();
    const cached = await serve([join(root, "examples/cached.pipeline.json")], { OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: "sk-example-upstream", REDIS_URL: redis.url });
    try {
      const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "asked twice in the cached example" }] });
      const headers = { authorization: `Bearer ${DEMO_KEY}`, "content-type": "application/json" };
      const before = upstream.requests.length;
      const verdicts: unknown[] = [];
      for (let i = 0; i < 2; i++) {
        const reply = await request(`${cached.url}/v1/chat/completions`, { method: "POST", headers, body });
        expect(reply.statusCode).toBe(200);
        expect(((await reply.body.json()) as any).choices[0].message.content).toBe("from the example upstream");
        verdicts.push(reply.headers["x-switchyard-cache"]);
      }
      expect(verdicts).toEqual(["miss", "hit"]);
      expect(upstream.requests.length - before).toBe(1);
    } finally {
      cached.child.kill("SIGTERM");
      await cached.exited;
      await redis.stop();
    }
  });

  it("serve the MCP example: an MCP client sees the stdio server's and the HTTP server's tools as one, with the demo key", async () => {
    const port = await freePort();
    const remote = spawn(process.execPath, [join(root, "examples/mcp/notes-server.mjs"), "--http", String(port)], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => remote.stdout!.on("data", (d: Buffer) => d.toString().includes("notes MCP server on") && resolve()));
    const mcp = await serve([join(root, "examples/mcp.pipeline.json")], { MCP_REMOTE_URL: `http://127.0.0.1:${port}/mcp` });
    const client = new Client({ name: "example-test", version: "1.0.0" });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${mcp.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${DEMO_KEY}` } } }));
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["notes__add_note", "notes__list_notes", "remote__add_note", "remote__list_notes"]));
      const kept = await client.callTool({ name: "notes__add_note", arguments: { name: "readme", text: "from the example test" } });
      expect(kept.content).toEqual([{ type: "text", text: "kept readme" }]);
      const read = await client.readResource({ uri: "notes://readme" });
      expect(read.contents[0]).toMatchObject({ text: "from the example test" });
    } finally {
      await client.close();
      mcp.child.kill("SIGTERM");
      await mcp.exited;
      remote.kill("SIGTERM");
    }
  });

  it("the README's openai SDK example runs against the default pipeline", async () => {
    const defaults = await serve([join(root, "pipelines")]);
    try {
      const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [join(root, "examples/openai-sdk.mjs")], { env: { ...process.env, SWITCHYARD_URL: `${defaults.url}/v1` } });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d));
        child.stderr.on("data", (d: Buffer) => (out += d));
        // "close", not "exit": only then has all the output been read from the pipes.
        child.once("close", (code) => resolve({ code, out }));
      });
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Hello from switchyard's mock provider \(backend mock-[ab]\)\./);
      expect(r.out).toContain("completion_tokens");
    } finally {
      defaults.child.kill("SIGTERM");
      await defaults.exited;
    }
  });
});
