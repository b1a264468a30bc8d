/**
 * `switchyard serve --admin-port N` (env ADMIN_PORT), as users run it (the compiled CLI in a child
 * process): operator routes (the admin API, the dashboard page, an admin-only /metrics, the usage
 * API) answer on the admin port only, the main port answers them 404 in the route's format, model
 * routes and the probes stay on the main port, and GET /admin/pipelines says which port serves
 * each route.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, serve, type ServeProcess } from "../support/cli-process.js";
import { freePort } from "../support/free-port.js";
import { keysFile } from "../support/gateway.js";

const CLIENT_KEY = "sk-admin-port-client";
const ADMIN_KEY = "sk-admin-port-admin";

const gatewayPipeline = {
  id: "gateway",
  routes: [
    { method: "POST", path: "/v1/chat/completions", format: "openai-chat" },
    { method: "GET", path: "/metrics", format: "openai-chat", endpoint: "metrics" },
    { method: "GET", path: "/admin/usage", format: "openai-chat", endpoint: "usage" },
    { path: "/admin", format: "openai-chat", endpoint: "admin" },
  ],
  backends: { mock: { use: "provider-mock", models: ["mock-*"] } },
  steps: [
    { use: "metrics-prometheus" },
    { use: "auth-api-key", config: { keysFile: "./keys.json" } },
    { use: "admin-api" },
    { use: "usage-api" },
    { use: "record-jsonl", config: { path: "./records.jsonl" } },
  ],
};
const dashboardPipeline = { id: "dashboard", routes: [{ method: "GET", path: "/admin/ui", format: "openai-chat", endpoint: "admin-ui" }], steps: [{ use: "admin-api" }] };
/** Scraped without a key: not an operator route, so it stays on the main port. */
const publicMetricsPipeline = { id: "scrape", routes: [{ method: "GET", path: "/public-metrics", format: "openai-chat", endpoint: "metrics-public" }], steps: [{ use: "metrics-prometheus" }] };

async function call(url: string, key?: string, init: RequestInit = {}): Promise<{ status: number; type: string | null; body: any }> {
  const r = await fetch(url, { ...init, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.headers as Record<string, string>) } });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: r.status, type: r.headers.get("content-type"), body };
}

describe("serve --admin-port", () => {
  let dir: string;
  let gateway: ServeProcess;
  let adminPort: number;
  let main: string;
  let admin: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchyard-admin-port-"));
    await writeFile(join(dir, "keys.json"), JSON.stringify(await keysFile([
      { key: CLIENT_KEY, id: "app", tenant: "acme" },
      { key: ADMIN_KEY, id: "ops", tenant: "ops", role: "admin" },
    ])));
    await writeFile(join(dir, "gateway.pipeline.json"), JSON.stringify(gatewayPipeline));
    await writeFile(join(dir, "dashboard.pipeline.json"), JSON.stringify(dashboardPipeline));
    await writeFile(join(dir, "scrape.pipeline.json"), JSON.stringify(publicMetricsPipeline));
    adminPort = await freePort();
    gateway = await serve([dir], { ADMIN_PORT: String(adminPort) });
    main = gateway.url;
    admin = `http://127.0.0.1:${adminPort}`;
  });

  afterAll(async () => {
    gateway?.child.kill("SIGTERM");
    await gateway?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it("serves model requests, the probes and a public metrics route on the main port", async () => {
    const chat = await call(`${main}/v1/chat/completions`, CLIENT_KEY, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "hi" }] }) });
    expect(chat.status).toBe(200);
    for (const probe of ["/livez", "/startupz", "/readyz"]) expect((await call(`${main}${probe}`)).status).toBe(200);
    expect(await call(`${main}/public-metrics`)).toMatchObject({ status: 200, type: expect.stringContaining("text/plain") });
  });

  it("answers operator routes 404 on the main port, in the route's format, even to an admin key", async () => {
    for (const path of ["/admin/pipelines", "/admin/backends", "/metrics", "/admin/usage?from=2026-01-01", "/admin/ui"]) {
      const refused = await call(`${main}${path}`, ADMIN_KEY);
      expect(refused.status, path).toBe(404);
      expect(refused.body, path).toMatchObject({ error: { code: "unknown_route" } });
    }
    expect((await call(`${main}/admin/reload`, ADMIN_KEY, { method: "POST" })).status).toBe(404);
  });

  it("serves operator routes on the admin port, with the same keys as before", async () => {
    expect((await call(`${admin}/admin/pipelines`)).status).toBe(401);
    expect((await call(`${admin}/admin/pipelines`, CLIENT_KEY)).status).toBe(403);
    expect((await call(`${admin}/admin/backends`, ADMIN_KEY)).status).toBe(200);
    expect(await call(`${admin}/metrics`, ADMIN_KEY)).toMatchObject({ status: 200, body: expect.stringContaining("switchyard_requests_total") });
    expect((await call(`${admin}/admin/usage?from=2026-01-01`, ADMIN_KEY)).status).toBe(200);
    const page = await call(`${admin}/admin/ui`);
    expect(page).toMatchObject({ status: 200, type: expect.stringContaining("text/html") });
  });

  it("answers everything else 404 on the admin port: model routes, public metrics and the probes", async () => {
    const chat = await call(`${admin}/v1/chat/completions`, CLIENT_KEY, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "hi" }] }) });
    expect(chat.status).toBe(404);
    for (const path of ["/public-metrics", "/livez", "/readyz"]) expect((await call(`${admin}${path}`)).status, path).toBe(404);
  });

  it("says in GET /admin/pipelines which port serves each route", async () => {
    const { status, body } = await call(`${admin}/admin/pipelines`, ADMIN_KEY);
    expect(status).toBe(200);
    const mainPort = Number(new URL(main).port);
    expect(body.listeners).toEqual({ port: mainPort, adminPort });
    const portOf = Object.fromEntries(body.pipelines.flatMap((p: any) => p.routes.map((r: any) => [r.path, r.port])));
    expect(portOf).toEqual({
      "/v1/chat/completions": mainPort,
      "/public-metrics": mainPort,
      "/metrics": adminPort,
      "/admin/usage": adminPort,
      "/admin": adminPort,
      "/admin/ui": adminPort,
    });
  });
});

describe("serve's command line", () => {
  it("prints serve's usage with --help and exits 0", async () => {
    const { code, stdout } = await run(["serve", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("switchyard serve");
    expect(stdout).toContain("--admin-port N (env ADMIN_PORT)");
  });

  it("refuses an admin port that is not one, naming it", async () => {
    const { code, stderr } = await run(["serve", "--admin-port", "http"]);
    expect(code).toBe(1);
    expect(stderr).toContain('invalid admin port "http"');
  });

  it("takes --admin-port from the command line too, and says where it listens", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-admin-flag-"));
    await writeFile(join(dir, "dashboard.pipeline.json"), JSON.stringify(dashboardPipeline));
    const port = await freePort();
    const gateway = await serve([dir, "--admin-port", String(port)]);
    try {
      expect((await call(`http://127.0.0.1:${port}/admin/ui`)).status).toBe(200);
      expect((await call(`${gateway.url}/admin/ui`)).status).toBe(404);
    } finally {
      gateway.child.kill("SIGTERM");
      expect(await gateway.exited).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
