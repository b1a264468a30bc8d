import { createHash } from "node:crypto";
import { request } from "node:http";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../../support/gateway.js";
import { send } from "../../support/http-client.js";
import { refusingPort, startUpstream, type HttpUpstream } from "../../support/http-upstream.js";
import { WAIT_MS } from "../../support/wait.js";

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function upstream(...args: Parameters<typeof startUpstream>): Promise<HttpUpstream> {
  const u = await startUpstream(...args);
  opened.push(u);
  return u;
}

type BackendSpec = string | Record<string, unknown>;

async function gateway(backends: Record<string, BackendSpec>, extra: Record<string, unknown> = {}, files: Record<string, unknown> = {}): Promise<TestGateway> {
  const pipeline = {
    id: "proxy",
    routes: [{ path: "/api", format: "http", endpoint: "proxy" }],
    backends: Object.fromEntries(
      Object.entries(backends).map(([id, spec]) => [id, { use: "provider-http", config: typeof spec === "string" ? { baseUrl: spec } : spec }]),
    ),
    steps: [] as unknown[],
    ...extra,
  };
  pipeline.steps = [...pipeline.steps, { use: "http-proxy" }];
  const g = await startGateway({ "proxy.pipeline.json": pipeline, ...files });
  opened.unshift(g);
  return g;
}

describe("http routes", () => {
  it("proxies GET, POST, PUT, DELETE and PATCH with their paths, query strings and bodies", async () => {
    const up = await upstream();
    const g = await gateway({ web: up.url });
    for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH"]) {
      const body = method === "GET" ? undefined : `{"method":"${method}"}`;
      const reply = await send(`${g.url}/api/items/7?q=a%20b&page=2`, { method, body, headers: body ? { "content-type": "application/json" } : {} });
      expect(reply.status, `${method} ${reply.text}`).toBe(200);
      expect(reply.json).toMatchObject({ method, url: "/api/items/7?q=a%20b&page=2", bodyLength: body?.length ?? 0, body: body ?? "" });
      expect(reply.headers["x-switchyard-backend"]).toBe("web");
      expect(reply.headers["x-switchyard-attempts"]).toBe("1");
    }
  });

  it("takes the prefix itself and every path below it, but not a longer word", async () => {
    const up = await upstream();
    const g = await gateway({ web: up.url });
    expect((await send(`${g.url}/api`)).json.url).toBe("/api");
    expect((await send(`${g.url}/api/`)).json.url).toBe("/api/");
    expect((await send(`${g.url}/api/a/b/c.txt`)).json.url).toBe("/api/a/b/c.txt");
    const other = await send(`${g.url}/apix`);
    expect(other.status).toBe(404);
    expect(other.json).toEqual({ error: { message: "no route for GET /apix", type: "not_found", code: "unknown_route" } });
    expect(up.seen.map((r) => r.url)).toEqual(["/api", "/api/", "/api/a/b/c.txt"]);
  });

  it("sends an absolute-form request target on in origin form, to the configured upstream only", async () => {
    const up = await upstream();
    const g = await gateway({ web: up.url });
    const { port } = new URL(g.url);
    const seen = await new Promise<any>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path: "http://elsewhere.example/api/x?y=1", agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
      }).on("error", reject).end();
    });
    expect(seen.url).toBe("/api/x?y=1");
    expect(seen.headers.host).toBe(new URL(up.url).host);
  });

  it("prefixes the backend's base path and answers HEAD with the upstream's headers only", async () => {
    const up = await upstream((req, res) => {
      res.setHeader("content-length", "5");
      res.end(req.method === "HEAD" ? undefined : "hello");
    });
    const g = await gateway({ web: `${up.url}/v2` });
    const head = await send(`${g.url}/api/x?y=1`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("5");
    expect(head.body.length).toBe(0);
    expect(up.seen[0]).toMatchObject({ method: "HEAD", url: "/v2/api/x?y=1" });
  });

  it("passes upstream statuses, headers and bodies on: a 404 stays a 404 and is not retried", async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(404, { "content-type": "text/plain", "content-length": "12", "x-upstream": "yes", "set-cookie": ["a=1", "b=2"] });
      res.end("no such item");
    });
    const other = await upstream();
    const g = await gateway({ web: up.url, other: other.url });
    const reply = await send(`${g.url}/api/items/9`);
    expect(reply.status).toBe(404);
    expect(reply.text).toBe("no such item");
    expect(reply.headers["x-upstream"]).toBe("yes");
    expect(reply.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(reply.headers["content-length"]).toBe("12");
    expect(other.seen).toHaveLength(0);
  });

  it("strips hop-by-hop headers both ways and sets x-forwarded-for, -proto and -host", async () => {
    const up = await upstream((_req, res) => {
      res.setHeader("connection", "x-upstream-hop");
      res.setHeader("x-upstream-hop", "1");
      res.setHeader("proxy-authenticate", "Basic");
      res.setHeader("keep-alive", "timeout=5");
      res.setHeader("x-upstream-end", "kept");
      res.end("ok");
    });
    const g = await gateway({ web: up.url });
    const reply = await send(`${g.url}/api/h`, {
      headers: {
        connection: "keep-alive, x-client-hop",
        "x-client-hop": "secret-to-this-hop",
        "keep-alive": "timeout=5",
        te: "trailers",
        "proxy-authorization": "Basic dXNlcjpwYXNz",
        "x-forwarded-for": "203.0.113.9",
        "x-end": "kept",
      },
    });
    expect(reply.status).toBe(200);
    const seen = up.seen[0]!.headers;
    for (const name of ["x-client-hop", "keep-alive", "te", "proxy-authorization"]) expect(seen[name], name).toBeUndefined();
    expect(seen.connection).toBe("keep-alive"); // undici's own, for its pooled socket
    expect(seen["x-end"]).toBe("kept");
    expect(seen["x-forwarded-for"]).toBe("203.0.113.9, 127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-host"]).toBe(new URL(g.url).host);
    expect(seen.host).toBe(new URL(up.url).host);
    expect(seen["x-request-id"]).toBe(reply.headers["x-switchyard-request-id"]);
    expect(reply.headers["x-upstream-hop"]).toBeUndefined();
    expect(reply.headers["proxy-authenticate"]).toBeUndefined();
    expect(reply.headers["keep-alive"]).not.toBe("timeout=5");
    expect(reply.headers["x-upstream-end"]).toBe("kept");
  });

  it("streams a 50 MB upload: the upstream has data before the client has sent it all, and gets every byte", async () => {
    const total = 50 * 1024 * 1024;
    const chunk = 1024 * 1024;
    let upstreamBytes = 0;
    let reachedUpstream!: () => void;
    const firstMegabytes = new Promise<void>((resolve) => (reachedUpstream = resolve));
    const up = await upstream(async (req, res) => {
      const hash = createHash("sha256");
      for await (const part of req) {
        hash.update(part as Buffer);
        upstreamBytes += (part as Buffer).length;
        if (upstreamBytes >= 2 * chunk) reachedUpstream();
      }
      res.end(JSON.stringify({ bytes: upstreamBytes, sha256: hash.digest("hex") }));
    });
    const g = await gateway({ web: up.url }, { limits: { maxBodyBytes: 64 * 1024 * 1024 } });
    const sent = createHash("sha256");
    async function* generate() {
      for (let i = 0; i < total / chunk; i++) {
        // A gateway that read the whole body before forwarding would never get past this wait.
        if (i === 4) await firstMegabytes;
        const part = Buffer.alloc(chunk, i % 251);
        sent.update(part);
        yield part;
      }
    }
    // No content-length: the gateway reads ahead up to replayBodyBytes, then streams the rest.
    const reply = await send(`${g.url}/api/upload`, { method: "PUT", body: Readable.from(generate()) });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ bytes: total, sha256: sent.digest("hex") });
    expect(up.seen[0]!.headers["transfer-encoding"]).toBe("chunked");
  });

  it("streams a 50 MB download: the client has data before the upstream has sent it all, and gets every byte", async () => {
    const total = 50 * 1024 * 1024;
    const chunk = 1024 * 1024;
    let clientBytes = 0;
    let reachedClient!: () => void;
    const firstMegabytes = new Promise<void>((resolve) => (reachedClient = resolve));
    const sent = createHash("sha256");
    const up = await upstream(async (_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      for (let i = 0; i < total / chunk; i++) {
        // A gateway that buffered the reply would never let the client reach this point.
        if (i === 4) await firstMegabytes;
        const part = Buffer.alloc(chunk, i % 251);
        sent.update(part);
        if (!res.write(part)) await new Promise((resolve) => res.once("drain", resolve));
      }
      res.end();
    });
    const g = await gateway({ web: up.url });
    const got = createHash("sha256");
    const status = await new Promise<number>((resolve, reject) => {
      request(`${g.url}/api/download`, { agent: false }, (res) => {
        res.on("data", (part: Buffer) => {
          got.update(part);
          clientBytes += part.length;
          if (clientBytes >= 2 * chunk) reachedClient();
        });
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      }).on("error", reject).end();
    });
    expect(status).toBe(200);
    expect(clientBytes).toBe(total);
    expect(got.digest("hex")).toBe(sent.digest("hex"));
  });

  it("answers 413 before reading a body that declares more than limits.maxBodyBytes", async () => {
    const up = await upstream();
    const g = await gateway({ web: up.url }, { limits: { maxBodyBytes: 1000 } });
    const reply = await send(`${g.url}/api/big`, { method: "POST", body: "x".repeat(2000) });
    expect(reply.status).toBe(413);
    expect(reply.json).toEqual({ error: { message: "request body exceeds 1000 bytes", type: "payload_too_large", code: "body_too_large" } });
    expect(up.seen).toHaveLength(0);
  });

  it("answers 413 to a chunked upload that grows past limits.maxBodyBytes, cutting the upstream request", async () => {
    let upstreamBytes = 0;
    let upstreamCut!: () => void;
    const cut = new Promise<void>((resolve) => (upstreamCut = resolve));
    const up = await upstream((req, res) => {
      req.on("data", (part: Buffer) => (upstreamBytes += part.length));
      req.on("end", () => res.end("ok"));
      req.once("close", () => {
        if (!req.complete) upstreamCut();
      });
    });
    const g = await gateway({ web: up.url }, { limits: { maxBodyBytes: 1_000_000 } });
    async function* generate() {
      for (let i = 0; i < 30; i++) yield Buffer.alloc(100_000, 7);
    }
    const reply = await send(`${g.url}/api/upload`, { method: "POST", body: Readable.from(generate()) });
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe("close");
    expect(reply.json.error.code).toBe("body_too_large");
    await cut;
    expect(upstreamBytes).toBeLessThanOrEqual(1_000_000);
  });

  it("aborts the upstream request when the client goes away mid-upload", async () => {
    let upstreamAborted!: () => void;
    const aborted = new Promise<void>((resolve) => (upstreamAborted = resolve));
    let upstreamBytes = 0;
    const up = await upstream((req) => {
      req.on("data", (part: Buffer) => (upstreamBytes += part.length));
      req.once("close", () => {
        if (!req.complete) upstreamAborted();
      });
    });
    const g = await gateway({ web: up.url }, { limits: { maxBodyBytes: 64 * 1024 * 1024 } });
    const req = request(`${g.url}/api/upload`, { method: "PUT", agent: false, headers: { "content-length": String(10 * 1024 * 1024) } });
    req.on("error", () => {});
    req.write(Buffer.alloc(1024 * 1024, 1));
    await vi.waitFor(() => expect(upstreamBytes).toBeGreaterThan(0), { timeout: WAIT_MS });
    req.destroy();
    await aborted;
    await vi.waitFor(async () => expect(await up.connections()).toBe(0), { timeout: WAIT_MS });
  });

  it("falls back to the next backend when the first refuses connections, sending the body again", async () => {
    const up = await upstream();
    const g = await gateway({ dead: `http://127.0.0.1:${await refusingPort()}`, live: up.url });
    const reply = await send(`${g.url}/api/orders`, { method: "POST", body: "order #1" });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ method: "POST", body: "order #1" });
    expect(reply.headers["x-switchyard-backend"]).toBe("live");
    expect(reply.headers["x-switchyard-attempts"]).toBe("2");
  });

  it("streamed bodies also fall back after a refused connection, since nothing of them was sent", async () => {
    const up = await upstream();
    const g = await gateway({ dead: `http://127.0.0.1:${await refusingPort()}`, live: up.url }, { limits: { replayBodyBytes: 16 } });
    const body = "y".repeat(100_000);
    const reply = await send(`${g.url}/api/orders`, { method: "POST", body: Readable.from([Buffer.from(body)]), headers: { "content-length": String(body.length) } });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ bodyLength: body.length });
    expect(reply.headers["x-switchyard-backend"]).toBe("live");
  });

  it("moves on from a status attempts.on lists, reusing the socket, and passes the last attempt's reply on", async () => {
    const sick = await upstream((_req, res) => {
      res.writeHead(503, { "content-type": "text/plain", "retry-after": "0" });
      res.end("down for maintenance");
    });
    const well = await upstream();
    const g = await gateway({ sick: sick.url, well: well.url }, { attempts: { on: [503], maxAttempts: 2, backoffMs: 0 } });
    for (let i = 0; i < 3; i++) {
      const reply = await send(`${g.url}/api/a`);
      expect(reply.status).toBe(200);
      expect(reply.headers["x-switchyard-backend"]).toBe("well");
    }
    expect(sick.seen).toHaveLength(3);
    // The discarded 503 bodies were read to their end: one socket served all three.
    expect(sick.accepted()).toBe(1);

    well.handle((_req, res) => {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("also down");
    });
    const last = await send(`${g.url}/api/a`);
    expect(last.status).toBe(503);
    expect(last.text).toBe("also down");
    expect(last.headers["x-switchyard-attempts"]).toBe("2");
  });

  it("does not send a POST on after an upstream may have acted on it, but does a PUT", async () => {
    const sick = await upstream(async (req, res) => {
      for await (const _ of req);
      res.writeHead(503);
      res.end("busy");
    });
    const well = await upstream();
    const g = await gateway({ sick: sick.url, well: well.url }, { attempts: { on: ["5xx"], maxAttempts: 2 } });
    const post = await send(`${g.url}/api/pay`, { method: "POST", body: "pay 10" });
    expect(post.status).toBe(503);
    expect(post.text).toBe("busy");
    expect(well.seen).toHaveLength(0);
    const put = await send(`${g.url}/api/doc`, { method: "PUT", body: "v2" });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ method: "PUT", body: "v2" });
  });

  it("does not send a body larger than replayBodyBytes twice once an upstream has read it", async () => {
    const sick = await upstream(async (req, res) => {
      for await (const _ of req);
      res.writeHead(503);
      res.end("busy");
    });
    const well = await upstream();
    const g = await gateway({ sick: sick.url, well: well.url }, { attempts: { on: [503], maxAttempts: 2 }, limits: { replayBodyBytes: 1024 } });
    const large = await send(`${g.url}/api/doc`, { method: "PUT", body: "z".repeat(10_000) });
    expect(large.status).toBe(503);
    expect(well.seen).toHaveLength(0);
    const small = await send(`${g.url}/api/doc`, { method: "PUT", body: "z".repeat(1000) });
    expect(small.status).toBe(200);
    expect(small.json).toMatchObject({ bodyLength: 1000 });
  });

  it("answers 504 when the upstream sends no headers within timeouts.firstByteMs", async () => {
    const up = await upstream(() => {
      // Never answers.
    });
    const g = await gateway({ web: up.url }, { timeouts: { firstByteMs: 200 }, attempts: { maxAttempts: 1 } });
    const reply = await send(`${g.url}/api/slow`);
    expect(reply.status).toBe(504);
    expect(reply.json).toEqual({ error: { message: "the upstream did not send response headers in time", type: "timeout", code: "upstream_headers_timeout" } });
  });

  it("aborts the upstream request when the client goes away mid-download, leaving no socket open", async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const up = await upstream((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.once("close", upstreamClosed);
      const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024)), 5);
      res.once("close", () => clearInterval(timer));
    });
    const g = await gateway({ web: up.url });
    await new Promise<void>((resolve, reject) => {
      const req = request(`${g.url}/api/endless`, { agent: false }, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", () => {});
      req.once("error", reject);
      req.end();
    });
    await closed;
    await vi.waitFor(async () => expect(await up.connections()).toBe(0), { timeout: WAIT_MS });
  });

  it("reuses pooled upstream sockets rather than opening one per request", async () => {
    const up = await upstream();
    const g = await gateway({ web: up.url });
    for (let i = 0; i < 20; i++) expect((await send(`${g.url}/api/n/${i}`)).status).toBe(200);
    // undici may open a second socket when a request comes the instant the first frees; never one per request.
    expect(up.accepted()).toBeLessThanOrEqual(2);
    expect(await up.connections()).toBe(up.accepted());
  });

  it("runs auth on http routes, and dropHeaders keeps the gateway's key from the upstream", async () => {
    const up = await upstream();
    const g = await gateway(
      { web: { baseUrl: up.url, dropHeaders: ["Authorization"], headers: { "x-upstream-token": "t0ken" } } },
      { steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }] },
      { "keys.json": await keysFile([{ key: "sk-gateway-key-123", id: "k1", tenant: "ops" }]) },
    );
    const denied = await send(`${g.url}/api/private`);
    expect(denied.status).toBe(401);
    expect(denied.json.error).toMatchObject({ type: "authentication" });
    expect(up.seen).toHaveLength(0);
    const allowed = await send(`${g.url}/api/private`, { headers: { authorization: "Bearer sk-gateway-key-123" } });
    expect(allowed.status).toBe(200);
    expect(up.seen[0]!.headers.authorization).toBeUndefined();
    expect(up.seen[0]!.headers["x-upstream-token"]).toBe("t0ken");
  });

  it("gives a request to the longest matching prefix, whatever the order of the files", async () => {
    const outer = await upstream();
    const inner = await upstream();
    const g = await startGateway({
      "a.pipeline.json": { id: "outer", routes: [{ path: "/", format: "http", endpoint: "proxy" }], backends: { outer: { use: "provider-http", config: { baseUrl: outer.url } } }, steps: [{ use: "http-proxy" }] },
      "b.pipeline.json": { id: "inner", routes: [{ path: "/api/v2", format: "http", endpoint: "proxy" }], backends: { inner: { use: "provider-http", config: { baseUrl: inner.url } } }, steps: [{ use: "http-proxy" }] },
    });
    opened.unshift(g);
    expect((await send(`${g.url}/api/v2/users`)).headers["x-switchyard-backend"]).toBe("inner");
    expect((await send(`${g.url}/api/v2`)).headers["x-switchyard-backend"]).toBe("inner");
    expect((await send(`${g.url}/api/v20`)).headers["x-switchyard-backend"]).toBe("outer");
    expect((await send(`${g.url}/`)).headers["x-switchyard-backend"]).toBe("outer");
  });

  it("proxies only the method an http route names", async () => {
    const up = await upstream();
    const pipeline = {
      id: "read-only",
      routes: [{ method: "GET", path: "/files/", format: "http", endpoint: "proxy" }],
      backends: { web: { use: "provider-http", config: { baseUrl: up.url } } },
      steps: [{ use: "http-proxy" }],
    };
    const g = await startGateway({ "ro.pipeline.json": pipeline });
    opened.unshift(g);
    expect((await send(`${g.url}/files/a.txt`)).status).toBe(200);
    const post = await send(`${g.url}/files/a.txt`, { method: "POST", body: "x" });
    expect(post.status).toBe(404);
    expect(up.seen).toHaveLength(1);
  });
});
