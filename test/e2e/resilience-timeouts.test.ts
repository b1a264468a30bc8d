/**
 * Every timeout on the LLM path: connect (provider connectTimeoutMs), first byte
 * (timeouts.firstByteMs), idle between stream chunks (stream-sse idleTimeoutMs) or body chunks
 * (timeouts.idleMs), and the total budget (timeouts.totalMs). Each answers 504 with type
 * timeout_error in OpenAI's shape (or, once a stream is committed, the error event and a clean
 * end), and each releases the upstream socket it was waiting on.
 */
import { APIError } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { ask, startFaultGateway, startSilentServer, type FaultGateway, type FaultGatewayOptions } from "../support/fault-gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream, type UpstreamBehaviour } from "../support/upstream-openai.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function upstream(behaviour: UpstreamBehaviour = {}): Promise<OpenAiUpstream> {
  const u = await startOpenAiUpstream(behaviour);
  open.push(u);
  return u;
}

async function gateway(options: FaultGatewayOptions): Promise<FaultGateway> {
  const gw = await startFaultGateway({ attempts: { maxAttempts: 1 }, ...options });
  open.unshift(gw);
  return gw;
}

const timeoutBody = (code: string, message: string) => ({ error: { message, type: "timeout_error", code, param: null } });

/** Reads a stream to its end with the SDK; returns the text seen and the error it ended with. */
async function drain(stream: AsyncIterable<{ choices: { delta?: { content?: string | null } }[] }>): Promise<{ text: string; error: unknown }> {
  let text = "";
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

describe("connect timeout (provider connectTimeoutMs)", () => {
  it("answers 504 upstream_connect_timeout and closes the half-open connection", async () => {
    const silent = await startSilentServer();
    open.push(silent);
    const gw = await gateway({ upstreams: [silent.url], backendConfig: { connectTimeoutMs: 200 } });
    const r = await gw.post(ask());
    expect(r.status).toBe(504);
    expect(JSON.parse(r.text)).toEqual(timeoutBody("upstream_connect_timeout", "the upstream did not accept the connection in time"));
    expect(silent.accepted).toBe(1);
    await silent.waitForConnections(0);
    const record = await gw.record(r.headers["x-switchyard-request-id"] as string);
    expect(record.attempts).toEqual([expect.objectContaining({ backend: "a", failure: "timeout", errorCode: "upstream_connect_timeout" })]);
  });

  it("falls back to the next backend, for streams too", async () => {
    const silent = await startSilentServer();
    open.push(silent);
    const b = await upstream();
    const gw = await gateway({ upstreams: [silent.url, b.url], backendConfigs: { a: { connectTimeoutMs: 200 } }, attempts: { maxAttempts: 2 } });
    const { data, response } = await gw.client.chat.completions.create(ask(true)).withResponse();
    expect((await drain(data)).text).toBe("Hello from the test upstream.");
    expect(response.headers.get("x-switchyard-backend")).toBe("b");
    await silent.waitForConnections(0);
  });
});

describe("first-byte timeout (timeouts.firstByteMs)", () => {
  it("answers 504 upstream_headers_timeout when no status line comes, and closes the socket", async () => {
    const a = await upstream({ hang: true });
    const gw = await gateway({ upstreams: [a.url], timeouts: { firstByteMs: 200 } });
    const r = await gw.post(ask(true));
    expect(r.status).toBe(504);
    expect(JSON.parse(r.text)).toEqual(timeoutBody("upstream_headers_timeout", "the upstream did not send response headers in time"));
    await a.requests[0]!.connectionClosed;
    expect(a.connections).toBe(0);
  });

  it("surfaces to the openai client as an APIError with status 504", async () => {
    const a = await upstream({ hang: true });
    const gw = await gateway({ upstreams: [a.url], timeouts: { firstByteMs: 200 } });
    const err = await gw.client.chat.completions.create(ask()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(504);
    expect((err as APIError).error).toMatchObject({ type: "timeout_error", code: "upstream_headers_timeout" });
  });
});

describe("idle timeout between chunks", () => {
  it("mid-stream (stream-sse idleTimeoutMs): the client gets what came, then the timeout event and a clean end", async () => {
    const a = await upstream({ chunks: 3, chunkDelayMs: 10_000 });
    const gw = await gateway({ upstreams: [a.url], stream: { idleTimeoutMs: 200 } });
    const r = await gw.post(ask(true));
    expect(r.status).toBe(200);
    const events = r.text.split("\n\n").filter(Boolean);
    expect(events[0]).toContain('"role":"assistant"');
    expect(events.at(-1)).toBe(`data: ${JSON.stringify(timeoutBody("upstream_idle_timeout", "the upstream stopped sending before its reply finished"))}`);
    await a.requests[0]!.connectionClosed;
    const record = await gw.record(r.headers["x-switchyard-request-id"] as string);
    expect(record).toMatchObject({ status: 200, error: { type: "timeout", code: "upstream_idle_timeout" } });
    expect(record.attempts).toEqual([expect.objectContaining({ status: 200, failure: "timeout", errorCode: "upstream_idle_timeout" })]);
  });

  it("the openai client sees the mid-stream timeout as an APIError after the first deltas", async () => {
    const a = await upstream({ chunks: 3, chunkDelayMs: 10_000 });
    const gw = await gateway({ upstreams: [a.url], stream: { idleTimeoutMs: 200 } });
    const { error } = await drain(await gw.client.chat.completions.create(ask(true)));
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).error).toMatchObject({ type: "timeout_error", code: "upstream_idle_timeout" });
    await a.requests[0]!.connectionClosed;
  });

  it("in a plain body (timeouts.idleMs): 504 upstream_idle_timeout, socket closed", async () => {
    const a = await upstream({ hangAfterHeaders: true });
    const gw = await gateway({ upstreams: [a.url], timeouts: { idleMs: 200 } });
    const r = await gw.post(ask());
    expect(r.status).toBe(504);
    expect(JSON.parse(r.text)).toEqual(timeoutBody("upstream_idle_timeout", "the upstream stopped sending before its reply finished"));
    await a.requests[0]!.connectionClosed;
  });
});

describe("total budget (timeouts.totalMs)", () => {
  it("answers 504 request_timeout while waiting for headers, counts the attempt as a timeout, and closes the socket", async () => {
    const a = await upstream({ hang: true });
    const gw = await gateway({ upstreams: [a.url], timeouts: { totalMs: 300 } });
    const r = await gw.post(ask());
    expect(r.status).toBe(504);
    expect(JSON.parse(r.text)).toEqual(timeoutBody("request_timeout", "the request took longer than 300 ms"));
    await a.requests[0]!.connectionClosed;
    const record = await gw.record(r.headers["x-switchyard-request-id"] as string);
    // failure timeout: a health check reading this outcome must not take it for a success.
    expect(record.attempts).toEqual([expect.objectContaining({ backend: "a", failure: "timeout", errorCode: "request_timeout" })]);
  });

  it("cuts a committed stream with a request_timeout event (not a generic stream failure) and closes the socket", async () => {
    // A 10 s stream against a 1.5 s budget: several chunks arrive before the cut, even on a loaded machine.
    const a = await upstream({ chunks: 200, chunkDelayMs: 50 });
    const gw = await gateway({ upstreams: [a.url], timeouts: { totalMs: 1_500 } });
    const r = await gw.post(ask(true));
    expect(r.status).toBe(200);
    const events = r.text.split("\n\n").filter(Boolean);
    expect(events.length).toBeGreaterThan(2);
    expect(events.at(-1)).toBe(`data: ${JSON.stringify(timeoutBody("request_timeout", "the request took longer than 1500 ms"))}`);
    await a.requests[0]!.connectionClosed;
    const record = await gw.record(r.headers["x-switchyard-request-id"] as string);
    expect(record.attempts).toEqual([expect.objectContaining({ status: 200, failure: "timeout", errorCode: "request_timeout" })]);
  });

  it("stops falling back once the budget is spent", async () => {
    const a = await upstream({ hang: true });
    const b = await upstream({ hang: true });
    const gw = await gateway({ upstreams: [a.url, b.url], attempts: { maxAttempts: 3 }, timeouts: { firstByteMs: 5_000, totalMs: 300 } });
    const r = await gw.post(ask());
    expect(r.status).toBe(504);
    expect(JSON.parse(r.text).error.code).toBe("request_timeout");
    expect(b.requests).toHaveLength(0);
    await a.requests[0]!.connectionClosed;
  });
});

describe("a client that goes away", () => {
  it("releases the upstream socket of its stream at once", async () => {
    // After its first chunk the upstream says nothing for ten minutes: no write to the gone client
    // fails meanwhile, so the socket closes only because the gateway lets go when the client leaves.
    const a = await upstream({ chunks: 2, chunkDelayMs: 600_000 });
    const gw = await gateway({ upstreams: [a.url] });
    const controller = new AbortController();
    const stream = await gw.client.chat.completions.create(ask(true), { signal: controller.signal });
    for await (const _ of stream) {
      controller.abort();
      break;
    }
    await a.waitForConnections(0, 10_000);
    await gw.waitForGatewayConnections(0, 10_000);
  });
});
