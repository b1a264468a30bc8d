/**
 * switchyard as the reverse proxy / load balancer ops would otherwise run nginx for: pipeline
 * files with http routes over real node:http upstreams, the selector, health and record steps
 * doing what they do for model routes.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { waitForRecords } from "../support/records.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { send } from "../support/http-client.js";
import { startUpstream, type HttpUpstream } from "../support/http-upstream.js";
import { WAIT_MS } from "../support/wait.js";

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** An app server named `name`: answers every path with its name, /healthz with `health.status`. */
async function app(name: string): Promise<HttpUpstream & { health: { status: number } }> {
  const health = { status: 200 };
  const up = await startUpstream((req, res) => {
    if (req.url === "/healthz") {
      res.statusCode = health.status;
      res.end();
      return;
    }
    req.resume();
    res.setHeader("content-type", "text/plain");
    res.end(name);
  });
  opened.push(up);
  return Object.assign(up, { health });
}

async function proxy(apps: Record<string, HttpUpstream>, steps: unknown[], extra: Record<string, unknown> = {}): Promise<TestGateway> {
  const g = await startGateway({
    "web.pipeline.json": {
      id: "web",
      description: "nginx's job: one prefix over a pool of app servers",
      routes: [{ path: "/", format: "http", endpoint: "proxy" }],
      backends: Object.fromEntries(Object.entries(apps).map(([id, up]) => [id, { use: "provider-http", config: { baseUrl: up.url } }])),
      steps: [...steps, { use: "http-proxy" }],
      ...extra,
    },
  });
  opened.unshift(g);
  return g;
}

async function servedBy(g: TestGateway, count: number, headers: Record<string, string> = {}): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const reply = await send(`${g.url}/page/${i}`, { headers });
    expect(reply.status).toBe(200);
    expect(reply.headers["x-switchyard-backend"]).toBe(reply.text);
    names.push(reply.text);
  }
  return names;
}

const tally = (names: string[]) => names.reduce<Record<string, number>>((acc, n) => ({ ...acc, [n]: (acc[n] ?? 0) + 1 }), {});

describe("an http pipeline", () => {
  it("spreads requests round-robin over its backends, over pooled sockets", async () => {
    const apps = { a: await app("a"), b: await app("b"), c: await app("c") };
    const g = await proxy(apps, [{ use: "select-round-robin" }]);
    expect(await servedBy(g, 30)).toEqual(Array.from({ length: 30 }, (_, i) => "abc"[i % 3]));
    for (const up of Object.values(apps)) {
      expect(up.seen).toHaveLength(10);
      expect(up.accepted()).toBeLessThanOrEqual(2);
      expect(await up.connections()).toBe(up.accepted());
    }
  });

  it("spreads requests by weight", async () => {
    const apps = { big: await app("big"), small: await app("small") };
    const g = await proxy(apps, [{ use: "select-weighted", config: { weights: { big: 3, small: 1 } } }]);
    expect(tally(await servedBy(g, 40))).toEqual({ big: 30, small: 10 });
  });

  it("keeps a session on one backend by its cookie", async () => {
    const apps = { a: await app("a"), b: await app("b"), c: await app("c") };
    const g = await proxy(apps, [{ use: "select-sticky", config: { key: "cookie:sid" } }]);
    const homes = new Set<string>();
    for (let session = 0; session < 12; session++) {
      const names = await servedBy(g, 4, { cookie: `theme=dark; sid=session-${session}` });
      expect(new Set(names).size).toBe(1);
      homes.add(names[0]!);
    }
    expect(homes.size).toBeGreaterThan(1);
  });

  it("takes a backend whose health check fails out of rotation, and puts it back when it recovers", async () => {
    const apps = { a: await app("a"), b: await app("b") };
    const g = await proxy(apps, [
      { use: "health-active", config: { path: "/healthz", intervalMs: 10, unhealthyAfter: 2, healthyAfter: 2 } },
      { use: "select-round-robin" },
    ]);
    expect(tally(await servedBy(g, 4))).toEqual({ a: 2, b: 2 });

    apps.a.health.status = 500;
    await vi.waitFor(async () => expect(tally(await servedBy(g, 4))).toEqual({ b: 4 }), { timeout: WAIT_MS });
    expect(tally(await servedBy(g, 10))).toEqual({ b: 10 });

    apps.a.health.status = 200;
    await vi.waitFor(async () => expect(tally(await servedBy(g, 4))).toEqual({ a: 2, b: 2 }), { timeout: WAIT_MS });
  });

  it("keeps serving when a backend goes away, by falling back to the next", async () => {
    const apps = { a: await app("a"), b: await app("b") };
    const g = await proxy(apps, [{ use: "select-round-robin" }]);
    await apps.b.close();
    const names = await servedBy(g, 6);
    expect(tally(names)).toEqual({ a: 6 });
  });

  it("records each proxied request with its route, status, backend and attempts", async () => {
    const apps = { a: await app("a") };
    apps.a.handle((_req, res) => {
      res.statusCode = 404;
      res.end("missing");
    });
    const g = await proxy(apps, [{ use: "record-jsonl", config: { path: "./data/records.jsonl", flushIntervalMs: 20 } }]);
    const reply = await send(`${g.url}/nope?x=1`, { method: "DELETE" });
    expect(reply.status).toBe(404);
    const file = join(g.dir, "data/records.jsonl");
    const records = await waitForRecords(file, (rs) => rs.length >= 1, { what: "the proxied request's record" });
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({ pipeline: "web", route: "/", format: "http", status: 404, backend: "a", attempts: [{ backend: "a", status: 404 }] });
    expect(record.model).toBeUndefined();
  });
});
