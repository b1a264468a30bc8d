/**
 * admin-api on a real gateway: admin keys only (401/403 in the route's format), pipelines with
 * their steps' `when`, backends with health, breaker and traffic, per-minute counts, keys managed
 * over the same file `switchyard keys` edits, and every call logged with the key's id, never a key.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import adminApi from "../../../plugins/admin-api/index.js";
import { createKeysCommand } from "../../../plugins/auth-api-key/keys-command.js";
import { answerGatewayControl, type GatewayControl } from "../../../lib/operate/gateway-control.js";
import { createTestExchange, createTestStep } from "../../../testkit/index.js";
import { GatewayError, type EndpointIo } from "../../../core/index.js";
import { startGateway, type TestGateway } from "../../support/gateway.js";

const CLIENT_KEY = "sk-admin-test-client";
const ADMIN_KEY = "sk-admin-test-ops";
const hashOf = (key: string) => `sha256:${createHash("sha256").update(key).digest("hex")}`;

describe("admin-api", () => {
  let gw: TestGateway;
  const logLines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _enc, done) => void (logLines.push(String(chunk)), done()) });
    process.env.ADMIN_API_TEST_INTERNAL_TOKEN = "internal-token-5f3a9c";
    gw = await startGateway(
      {
        "ops.pipeline.json": {
          id: "ops",
          routes: [
            { method: "POST", path: "/v1/chat/completions", format: "openai-chat" },
            { path: "/admin", format: "openai-chat", endpoint: "admin" },
            { path: "/anthropic-admin", format: "anthropic-messages", endpoint: "admin" },
            { method: "GET", path: "/admin/usage", format: "openai-chat", endpoint: "usage" },
          ],
          backends: { "mock-a": { use: "provider-mock", models: ["mock-*"], config: { reply: "hi from a" } } },
          steps: [
            { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } },
            { use: "validate", when: { all: [{ header: { name: "x-tier", equals: "free" } }, { not: { header: { name: "x-internal", equals: "${env:ADMIN_API_TEST_INTERNAL_TOKEN}" } } }] } },
            { use: "health-breaker" },
            { use: "usage-api" },
            { use: "admin-api" },
            { use: "record-jsonl", config: { path: "./records.jsonl" } },
          ],
        },
        "keys.json": { keys: [{ id: "client", tenant: "acme", hash: hashOf(CLIENT_KEY) }, { id: "ops-admin", tenant: "ops", role: "admin", hash: hashOf(ADMIN_KEY) }] },
      },
      undefined,
      undefined,
      pino({ level: "info" }, sink),
    );
  });
  afterAll(async () => {
    await gw?.close();
  });

  const call = async (method: string, path: string, key?: string, body?: unknown) => {
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await request(`${gw.url}${path}`, { method: method as "GET", headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.statusCode, body: (await res.body.json()) as any };
  };
  const chat = (key: string) => call("POST", "/v1/chat/completions", key, { model: "mock-small", messages: [{ role: "user", content: "hello" }] });

  it("refuses a missing key (401) and a client key (403) in the route's own format", async () => {
    const missing = await call("GET", "/admin/pipelines");
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ code: "missing_api_key" });
    const client = await call("GET", "/admin/pipelines", CLIENT_KEY);
    expect(client.status).toBe(403);
    expect(client.body.error).toMatchObject({ code: "admin_key_required" });
    const anthropic = await call("GET", "/anthropic-admin/pipelines", CLIENT_KEY);
    expect(anthropic.status).toBe(403);
    expect(anthropic.body).toMatchObject({ type: "error", error: { type: "permission_error" } });
    const unknownCall = await call("GET", "/admin/nothing-here", ADMIN_KEY);
    expect(unknownCall.status).toBe(404);
    expect(unknownCall.body.error).toMatchObject({ code: "unknown_admin_call" });
  });

  it("lists pipelines with routes, steps (each step's when) and the last reload", async () => {
    const { status, body } = await call("GET", "/admin/pipelines", ADMIN_KEY);
    expect(status).toBe(200);
    const ops = body.pipelines.find((p: { id: string }) => p.id === "ops");
    expect(ops.routes.map((r: { path: string }) => r.path)).toContain("/v1/chat/completions");
    expect(ops.steps.map((s: { id: string }) => s.id)).toEqual(["auth-api-key", "validate", "health-breaker", "usage-api", "admin-api", "record-jsonl"]);
    // A secret a `when` was written with is shown as logs show it.
    const when = { all: [{ header: { name: "x-tier", equals: "free" } }, { not: { header: { name: "x-internal", equals: "[redacted]" } } }] };
    expect(ops.steps[1]).toEqual({ id: "validate", use: "validate", when, onError: "fail" });
    expect(JSON.stringify(body)).not.toContain("internal-token-5f3a9c");
    expect(ops.backends).toEqual([{ id: "mock-a", use: "provider-mock", models: ["mock-*"] }]);
    expect(body.lastReload).toMatchObject({ ok: true, trigger: "start", errors: [] });
  });

  it("shows backends with health, breaker state and traffic, and requests per minute", async () => {
    expect((await chat(CLIENT_KEY)).status).toBe(200);
    const backends = await call("GET", "/admin/backends", ADMIN_KEY);
    expect(backends.body.backends).toEqual([
      expect.objectContaining({ pipeline: "ops", id: "mock-a", healthy: true, breaker: expect.objectContaining({ state: "closed" }), traffic: expect.objectContaining({ inFlight: 0, samples: 1, failures: 0 }) }),
    ]);
    expect(backends.body.backends[0].traffic.latencyMs).toEqual({ p50: expect.any(Number), p95: expect.any(Number), last: expect.any(Number) });
    await gw.server.recordsWritten();
    const traffic = await call("GET", "/admin/traffic", ADMIN_KEY);
    const minutes = traffic.body.pipelines.find((p: { id: string }) => p.id === "ops").minutes as { requests: number; errors: number }[];
    expect(minutes).toHaveLength(30);
    expect(minutes.reduce((a, m) => a + m.requests, 0)).toBeGreaterThanOrEqual(1);
  });

  it("adds a key (shown once), lists it without its hash and disables it, over the file the CLI edits", async () => {
    const added = await call("POST", "/admin/keys", ADMIN_KEY, { id: "new-client", tenant: "beta", models: ["mock-*"] });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ id: "new-client", tenant: "beta", role: "client", status: "active", models: ["mock-*"] });
    const newKey = added.body.key as string;
    expect(newKey).toMatch(/^sk-sy-/);
    expect((await chat(newKey)).status).toBe(200);

    const listed = await call("GET", "/admin/keys", ADMIN_KEY);
    expect(listed.body.keys.map((k: { id: string }) => k.id)).toEqual(["client", "ops-admin", "new-client"]);
    expect(JSON.stringify(listed.body)).not.toMatch(/sha256|sk-sy-/);

    const disabled = await call("POST", "/admin/keys/new-client/disable", ADMIN_KEY);
    expect(disabled).toEqual({ status: 200, body: { id: "new-client", status: "disabled", alreadyDisabled: false } });
    const refused = await chat(newKey);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("key_disabled");

    // The CLI reads the same file and sees the change.
    let out = "";
    const code = await createKeysCommand({ stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true } }).run(["list", "--json", "--file", join(gw.dir, "keys.json")]);
    expect(code).toBe(0);
    expect(JSON.parse(out).find((k: { id: string }) => k.id === "new-client")).toMatchObject({ status: "disabled", tenant: "beta" });
    expect(await readFile(join(gw.dir, "keys.json"), "utf8")).not.toContain(newKey);

    // Mistakes are the admin's: in the route's format, nothing written.
    const twice = await call("POST", "/admin/keys", ADMIN_KEY, { id: "new-client", tenant: "beta" });
    expect(twice.status).toBe(400);
    expect(twice.body.error.message).toMatch(/already has a key with id "new-client"/);
    const badField = await call("POST", "/admin/keys", ADMIN_KEY, { id: "x", tenant: "t", hash: "sha256:00" });
    expect(badField.status).toBe(400);
    expect(badField.body.error.param).toBe("hash");
    const unknown = await call("POST", "/admin/keys/nobody/disable", ADMIN_KEY);
    expect(unknown.status).toBe(404);

    // Every admin call was logged with the admin key's id; no key, old or new, in any line.
    const adminCalls = logLines.map((l) => JSON.parse(l) as { msg: string; keyId?: string; route?: string; status?: number }).filter((l) => l.msg.startsWith("admin call"));
    const answered = adminCalls.filter((l) => l.msg === "admin call");
    expect(answered.length).toBeGreaterThanOrEqual(6);
    for (const line of answered) expect(line.keyId).toBe("ops-admin");
    // Refused calls say whose key it was when one was known (the client's), and nothing when none came.
    expect(adminCalls.filter((l) => l.msg !== "admin call").map((l) => l.keyId ?? null)).toEqual(expect.arrayContaining(["client", null, "ops-admin"]));
    for (const line of logLines) {
      expect(line).not.toContain(ADMIN_KEY);
      expect(line).not.toContain(newKey);
      expect(line).not.toContain(CLIENT_KEY);
    }
  });

  it("answers the usage API beside it", async () => {
    await gw.server.recordsWritten();
    const usage = await call("GET", `/admin/usage?from=${new Date().toISOString().slice(0, 10)}&group_by=tenant`, ADMIN_KEY);
    expect(usage.status).toBe(200);
    expect(usage.body.rows.map((r: { key: string }) => r.key)).toContain("acme");
  });

  it("answers a reload asked while another runs with 409, in the route's format", async () => {
    const busy: GatewayControl = { pipelines: () => [], listeners: () => undefined, lastReload: () => undefined, reload: async () => "busy" };
    const { hooks } = await createTestStep(adminApi, {});
    answerGatewayControl(hooks, busy);
    const x = createTestExchange({ route: { method: "POST", path: "/admin", endpoint: "admin", admin: true }, inbound: { path: "/admin/reload", params: {}, query: {} } });
    const failure = await hooks.endpoint.for("admin").promise(x, {} as EndpointIo).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(GatewayError);
    expect(failure).toMatchObject({ status: 409, code: "reload_in_progress" });
  });
});
