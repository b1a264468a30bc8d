import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { ForwardCall, Provider, UpstreamReply } from "../../../core/index.js";
import { GatewayError } from "../../../core/index.js";
import { createTestProvider } from "../../../testkit/index.js";
import providerHttp from "../../../plugins/provider-http/index.js";
import { refusingPort, startUpstream, type HttpUpstream } from "../../support/http-upstream.js";
import { RequestEnd } from "../../../core/index.js";

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function upstream(...args: Parameters<typeof startUpstream>): Promise<HttpUpstream> {
  const u = await startUpstream(...args);
  opened.push(u);
  return u;
}

async function provider(config: Record<string, unknown>): Promise<Provider> {
  const p = await createTestProvider(providerHttp, config);
  opened.unshift(p);
  return p;
}

function call(init: Partial<ForwardCall> = {}): ForwardCall {
  return {
    method: "GET",
    path: "/",
    headers: {},
    body: undefined,
    end: new RequestEnd(),
    headersTimeoutMs: 5_000,
    bodyTimeoutMs: 5_000,
    requestId: "req-1",
    ...init,
  };
}

async function text(reply: UpstreamReply): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of reply.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

describe("provider-http", () => {
  it("forwards method, base path + path + query, headers and a streamed body", async () => {
    const up = await upstream();
    const p = await provider({ baseUrl: `${up.url}/base/` });
    const reply = await p.forward!(call({
      method: "POST",
      path: "/items?sort=asc",
      headers: { "content-type": "text/plain", "x-custom": ["a", "b"], host: "client.example" },
      body: Readable.from([Buffer.from("hello "), Buffer.from("world")]),
    }));
    expect(reply.status).toBe(200);
    const seen = JSON.parse(await text(reply));
    expect(seen).toMatchObject({ method: "POST", url: "/base/items?sort=asc", body: "hello world" });
    expect(seen.headers).toMatchObject({ "content-type": "text/plain", "x-custom": "a, b", host: new URL(up.url).host, "x-request-id": "req-1" });
  });

  it("passes the client's Host with hostHeader client", async () => {
    const up = await upstream();
    const p = await provider({ baseUrl: up.url, hostHeader: "client" });
    const reply = await p.forward!(call({ headers: { host: "shop.example:8443" } }));
    expect(JSON.parse(await text(reply)).headers.host).toBe("shop.example:8443");
  });

  it("drops the listed client headers and sets its own over the client's", async () => {
    const up = await upstream();
    const p = await provider({ baseUrl: up.url, dropHeaders: ["Authorization", "X-Api-Key"], headers: { "X-Upstream-Auth": "s3cret", "x-tier": "gold" } });
    const reply = await p.forward!(call({ headers: { authorization: "Bearer gateway-key", "x-api-key": "k", "x-tier": "free", "x-keep": "1" } }));
    const { headers } = JSON.parse(await text(reply));
    expect(headers.authorization).toBeUndefined();
    expect(headers["x-api-key"]).toBeUndefined();
    expect(headers).toMatchObject({ "x-upstream-auth": "s3cret", "x-tier": "gold", "x-keep": "1" });
  });

  it("returns non-2xx replies as replies, with their body", async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end("bad gateway upstream");
    });
    const p = await provider({ baseUrl: up.url });
    const reply = await p.forward!(call());
    expect(reply.status).toBe(502);
    expect(await text(reply)).toBe("bad gateway upstream");
  });

  it("fails with failure connect when the upstream refuses the connection", async () => {
    const p = await provider({ baseUrl: `http://127.0.0.1:${await refusingPort()}` });
    const err = await p.forward!(call()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 502, failure: "connect", code: "upstream_connect_failed" });
  });

  it("fails with failure timeout when headers do not come within headersTimeoutMs", async () => {
    const up = await upstream(() => {});
    const p = await provider({ baseUrl: up.url });
    const err = await p.forward!(call({ headersTimeoutMs: 100 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 504, failure: "timeout", code: "upstream_headers_timeout" });
  });

  it("reuses pooled sockets, never more than connections", async () => {
    const up = await upstream();
    const p = await provider({ baseUrl: up.url, connections: 1 });
    const replies = await Promise.all(Array.from({ length: 5 }, (_, i) => p.forward!(call({ path: `/n/${i}` })).then(text)));
    expect(replies.map((r) => JSON.parse(r).url)).toEqual(["/n/0", "/n/1", "/n/2", "/n/3", "/n/4"]);
    for (let i = 0; i < 5; i++) await text(await p.forward!(call({ path: `/m/${i}` })));
    expect(up.accepted()).toBe(1);
    expect(await up.connections()).toBe(1);
  });

  it("refuses model requests and headers it must set itself", async () => {
    const p = await provider({ baseUrl: "http://127.0.0.1:9" });
    expect(p.formats).toEqual([]);
    await expect(p.send(undefined as never)).rejects.toMatchObject({ code: "forward_only" });
    await expect(createTestProvider(providerHttp, { baseUrl: "http://127.0.0.1:9", headers: { Host: "x" } })).rejects.toThrow('header "host" is set by the gateway and cannot be configured (see hostHeader)');
    await expect(createTestProvider(providerHttp, { baseUrl: "http://127.0.0.1:9", headers: { "Content-Length": "1" } })).rejects.toThrow('header "content-length" is set by the gateway');
  });
});
