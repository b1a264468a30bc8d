/**
 * Fault injection on the LLM path: a gateway with two OpenAI-compatible backends (a, then b by
 * select-fallback) in front of local upstreams, where `a` misbehaves in one way per case. The
 * official openai client must still get its reply from `b` whenever nothing reached it yet; the
 * record shows every attempt with its failure; and no socket stays open afterwards.
 */
import { APIError } from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ask, startFaultGateway, type FaultGateway } from "../support/fault-gateway.js";
import { closedPortUrl, startOpenAiUpstream, type OpenAiUpstream, type UpstreamBehaviour } from "../support/upstream-openai.js";

let a: OpenAiUpstream;
let b: OpenAiUpstream;
let gw: FaultGateway;
let refusedUrl: string;
let gwRefused: FaultGateway;

beforeAll(async () => {
  a = await startOpenAiUpstream();
  b = await startOpenAiUpstream();
  refusedUrl = await closedPortUrl();
  // 1 s: short enough for the hanging cases, long enough that a healthy reply on a loaded machine never trips it.
  gw = await startFaultGateway({ upstreams: [a.url, b.url], timeouts: { firstByteMs: 1_000, idleMs: 1_000 }, stream: { idleTimeoutMs: 1_000 } });
  gwRefused = await startFaultGateway({ upstreams: [refusedUrl, b.url] });
});

afterEach(() => {
  a.set({});
  b.set({});
});

afterAll(async () => {
  // What stays open after every run leaked: pools close idle sockets after 100 ms, and so does the client.
  await Promise.all([a.waitForConnections(0), b.waitForConnections(0), gw.waitForGatewayConnections(0), gwRefused.waitForGatewayConnections(0)]);
  expect(await Promise.all([gw.close(), gwRefused.close()])).toEqual([{ unfinished: 0 }, { unfinished: 0 }]);
  await Promise.all([a.close(), b.close()]);
});

interface FaultCase {
  fault: string;
  behaviour: UpstreamBehaviour;
  /** The first attempt as the record shows it. */
  attempt: { status?: number; failure: string; errorCode: string };
  /** The fault only exists for plain replies or only for streams. */
  only?: "plain" | "stream";
}

const cases: FaultCase[] = [
  { fault: "reset before the status line", behaviour: { resetBeforeHeaders: true }, attempt: { failure: "connect", errorCode: "upstream_connect_failed" } },
  { fault: "hang without headers past firstByteMs", behaviour: { hang: true }, attempt: { failure: "timeout", errorCode: "upstream_headers_timeout" } },
  { fault: "500", behaviour: { error: { status: 500 } }, attempt: { status: 500, failure: "status", errorCode: "server_error" } },
  { fault: "503 overloaded", behaviour: { error: { status: 503, body: { error: { message: "overloaded", type: "server_error", code: "overloaded" } } } }, attempt: { status: 503, failure: "status", errorCode: "overloaded" } },
  { fault: "429 with retry-after", behaviour: { error: { status: 429, headers: { "retry-after": "7" } } }, attempt: { status: 429, failure: "status", errorCode: "server_error" } },
  { fault: "reset after the headers, before any body byte", behaviour: { resetAfterHeaders: true }, attempt: { status: 200, failure: "stream", errorCode: "upstream_body_failed" }, only: "plain" },
  { fault: "reset in the middle of the JSON body", behaviour: { resetMidBody: true }, attempt: { status: 200, failure: "stream", errorCode: "upstream_body_failed" }, only: "plain" },
  { fault: "headers, then silence past idleMs", behaviour: { hangAfterHeaders: true }, attempt: { status: 200, failure: "timeout", errorCode: "upstream_idle_timeout" }, only: "plain" },
  { fault: "reset after the headers, before the first event", behaviour: { resetAfterHeaders: true }, attempt: { status: 200, failure: "stream", errorCode: "upstream_body_failed" }, only: "stream" },
  { fault: "headers, then silence past idleTimeoutMs before the first event", behaviour: { hangAfterHeaders: true }, attempt: { status: 200, failure: "timeout", errorCode: "upstream_idle_timeout" }, only: "stream" },
];

async function streamText(stream: AsyncIterable<{ choices: { delta?: { content?: string | null } }[] }>): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  return text;
}

describe.each(["plain", "stream"] as const)("%s requests fall back to the next backend", (mode) => {
  it.each(cases.filter((c) => c.only === undefined || c.only === mode))("when the first upstream fails with: $fault", async ({ behaviour, attempt }) => {
    a.set(behaviour);
    const before = a.requests.length;
    let text: string;
    let response: Response;
    if (mode === "plain") {
      const r = await gw.client.chat.completions.create(ask()).withResponse();
      text = r.data.choices[0]!.message.content!;
      response = r.response;
    } else {
      const r = await gw.client.chat.completions.create(ask(true)).withResponse();
      text = await streamText(r.data);
      response = r.response;
    }
    expect(text).toBe("Hello from the test upstream.");
    expect(response.headers.get("x-switchyard-backend")).toBe("b");
    expect(response.headers.get("x-switchyard-attempts")).toBe("2");

    const record = await gw.record(response.headers.get("x-switchyard-request-id")!);
    expect(record).toMatchObject({ status: 200, backend: "b", stream: mode === "stream" });
    expect(record.attempts).toHaveLength(2);
    expect(record.attempts[0]).toMatchObject({ backend: "a", ...attempt });
    expect(record.attempts[1]).toMatchObject({ backend: "b", status: 200 });
    expect(record.attempts[1].failure).toBeUndefined();
    // The failed attempt's socket is closed (a keep-alive socket after a complete error reply may stay pooled).
    const failed = a.requests[before]!;
    if (attempt.status === undefined || attempt.status === 200) await failed.connectionClosed;
  });

  it("when the first upstream refuses connections", async () => {
    const request = mode === "plain" ? gwRefused.client.chat.completions.create(ask()).withResponse() : gwRefused.client.chat.completions.create(ask(true)).withResponse();
    const { response } = await request;
    expect(response.headers.get("x-switchyard-backend")).toBe("b");
    const record = await gwRefused.record(response.headers.get("x-switchyard-request-id")!);
    expect(record.attempts.map((x: { backend: string; failure?: string; errorCode?: string }) => [x.backend, x.failure, x.errorCode])).toEqual([
      ["a", "connect", "upstream_connect_failed"],
      ["b", undefined, undefined],
    ]);
  });
});

describe("streams after their first byte", () => {
  it("do not fall back: the client gets the error event, then a clean end", async () => {
    a.set({ resetAfterChunks: 2, chunks: 5 });
    const bBefore = b.requests.length;
    const { data, response } = await gw.client.chat.completions.create(ask(true)).withResponse();
    let text = "";
    const err = await (async () => {
      for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? "";
    })().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).error).toMatchObject({ type: "api_error", code: "upstream_body_failed" });
    expect(text.length).toBeGreaterThan(0);
    expect(b.requests.length).toBe(bBefore);

    const record = await gw.record(response.headers.get("x-switchyard-request-id")!);
    expect(record).toMatchObject({ status: 200, backend: "a", error: { code: "upstream_body_failed" } });
    expect(record.attempts).toEqual([expect.objectContaining({ backend: "a", status: 200, failure: "stream", errorCode: "upstream_body_failed" })]);
  });

  it("end the raw SSE body with the error event and close it", async () => {
    a.set({ resetAfterChunks: 1 });
    const r = await gw.post(ask(true));
    expect(r.status).toBe(200);
    const events = r.text.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe(`data: ${JSON.stringify({ error: { message: "the upstream broke off its reply before it finished", type: "api_error", code: "upstream_body_failed", param: null } })}`);
    expect(r.text).not.toContain("[DONE]");
  });
});

describe("when every attempt fails", () => {
  it("answers with the last failure in OpenAI's shape and records every attempt", async () => {
    a.set({ error: { status: 500 } });
    b.set({ resetBeforeHeaders: true });
    const r = await gw.post(ask());
    expect(r.status).toBe(502);
    // The last attempt's failure: a's 500, in OpenAI's shape as a 502.
    expect(JSON.parse(r.text)).toEqual({ error: { message: "test upstream error 500", type: "api_error", code: "server_error", param: null } });
    const record = await gw.record(r.headers["x-switchyard-request-id"] as string);
    // maxAttempts 3 over two backends: a, b, then a again after a backoff.
    expect(record.attempts.map((x: { backend: string; status?: number; failure?: string }) => [x.backend, x.status, x.failure])).toEqual([
      ["a", 500, "status"],
      ["b", undefined, "connect"],
      ["a", 500, "status"],
    ]);
  });

  it("passes a 429 on with the upstream's retry-after when it is beyond maxRetryAfterMs, without retrying", async () => {
    a.set({ error: { status: 429, headers: { "retry-after": "120" } } });
    b.set({ error: { status: 429, headers: { "retry-after": "90" } } });
    const r = await gw.post(ask());
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBe("90");
    expect(JSON.parse(r.text).error.type).toBe("rate_limit_error");
    const record = await gw.record(r.headers["x-switchyard-request-id"] as string);
    expect(record.attempts.map((x: { backend: string; retryAfterMs?: number }) => [x.backend, x.retryAfterMs])).toEqual([
      ["a", 120_000],
      ["b", 90_000],
    ]);
  });

  it("honours a short retry-after before retrying a backend it already tried", async () => {
    // Backoff here is at most 5 ms: a retry that comes about 400 ms after the failure waited for the
    // retry-after (395: timer clocks count whole milliseconds, so a timer may end up to 1 ms early).
    a.queue({ error: { status: 429, headers: { "retry-after-ms": "400" } } });
    b.queue({ error: { status: 503, headers: { "retry-after-ms": "400" } } });
    const firstA = a.requests.length;
    const firstB = b.requests.length;
    const r = await gw.client.chat.completions.create(ask()).withResponse();
    expect(r.response.headers.get("x-switchyard-backend")).toBe("a");
    expect(r.response.headers.get("x-switchyard-attempts")).toBe("3");
    const [failedA, retriedA] = a.requests.slice(firstA);
    const failedB = b.requests[firstB]!;
    expect(retriedA!.receivedAt - failedB.receivedAt).toBeGreaterThanOrEqual(395);
    expect(retriedA!.receivedAt - failedA!.receivedAt).toBeGreaterThanOrEqual(395);
  });

  it("honours the retry-after a backend asked for before retrying it, when the failure just before said none", async () => {
    a.queue({ error: { status: 429, headers: { "retry-after-ms": "400" } } });
    b.queue({ error: { status: 503 } });
    const firstA = a.requests.length;
    const r = await gw.client.chat.completions.create(ask()).withResponse();
    expect(r.response.headers.get("x-switchyard-backend")).toBe("a");
    expect(r.response.headers.get("x-switchyard-attempts")).toBe("3");
    const [failedA, retriedA] = a.requests.slice(firstA);
    expect(retriedA!.receivedAt - failedA!.receivedAt).toBeGreaterThanOrEqual(395);
  });
});
