/**
 * health-breaker in a real gateway: circuits open after failures and keep the backend out of the
 * way, a probe closes them after the cooldown, and when every backend is down or rate-limited
 * the client is told at once (503 / 429) when to come back, without any upstream being disturbed.
 */
import { APIError } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { ask, startFaultGateway, type FaultGateway, type FaultGatewayOptions } from "../support/fault-gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream, type UpstreamBehaviour } from "../support/upstream-openai.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function upstreams(...behaviours: UpstreamBehaviour[]): Promise<OpenAiUpstream[]> {
  const started = await Promise.all(behaviours.map((b) => startOpenAiUpstream(b)));
  open.push(...started);
  return started;
}

async function gateway(ups: OpenAiUpstream[], breaker: Record<string, unknown>, options: Partial<FaultGatewayOptions> = {}): Promise<FaultGateway> {
  // After select-fallback: its fixed order would otherwise put an open backend first again.
  const gw = await startFaultGateway({ upstreams: ups.map((u) => u.url), after: [{ use: "health-breaker", config: breaker }], ...options });
  open.unshift(gw);
  return gw;
}

/**
 * The breaker's cooldown is a span of time with no event to wait on, so this sleeps it out (plus a
 * little): sleeping longer only makes the next request more surely the probe, whatever the load.
 */
const cooldownOver = (cooldownMs: number) => new Promise((r) => setTimeout(r, cooldownMs + 50));

async function servedBy(gw: FaultGateway): Promise<string> {
  const { response } = await gw.client.chat.completions.create(ask()).withResponse();
  return response.headers.get("x-switchyard-backend")!;
}

describe("health-breaker end to end", () => {
  it("opens after consecutive failures, keeps the backend out of the way, and closes after a successful probe", async () => {
    const [a, b] = await upstreams({ error: { status: 500 } }, {});
    // Four round trips must fit in the cooldown while the circuit is open: 2 s is ample on a loaded machine.
    const gw = await gateway([a!, b!], { consecutiveFailures: 2, cooldownMs: 2_000 });
    expect(await servedBy(gw)).toBe("b");
    expect(await servedBy(gw)).toBe("b");
    expect(a!.requests).toHaveLength(2);
    // Open: b is planned first and serves; a is not asked.
    expect(await servedBy(gw)).toBe("b");
    expect(await servedBy(gw)).toBe("b");
    expect(a!.requests).toHaveLength(2);

    a!.set({});
    await cooldownOver(2_000);
    // Half-open: the next request is a's probe; it succeeds and closes the circuit.
    expect(await servedBy(gw)).toBe("a");
    expect(await servedBy(gw)).toBe("a");
    expect(a!.requests).toHaveLength(4);
  });

  it("reopens when the probe fails, for another cooldown", async () => {
    const [a, b] = await upstreams({ error: { status: 502 } }, {});
    const gw = await gateway([a!, b!], { consecutiveFailures: 1, cooldownMs: 1_000 });
    expect(await servedBy(gw)).toBe("b");
    await cooldownOver(1_000);
    expect(await servedBy(gw)).toBe("b");
    expect(a!.requests).toHaveLength(2);
    expect(await servedBy(gw)).toBe("b");
    expect(a!.requests).toHaveLength(2);
  });

  it("answers 503 with a retry-after when every backend is open, without contacting any upstream", async () => {
    const [a, b] = await upstreams({ error: { status: 500 } }, { resetBeforeHeaders: true });
    const gw = await gateway([a!, b!], { consecutiveFailures: 1, cooldownMs: 20_000 }, { attempts: { maxAttempts: 2 } });
    const first = await gw.post(ask());
    expect(first.status).toBe(502);

    const r = await gw.post(ask());
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text)).toEqual({ error: { message: 'no backend is available for model "gpt-test"', type: "service_unavailable_error", code: "no_backend_available", param: null } });
    expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(19);
    expect(Number(r.headers["retry-after"])).toBeLessThanOrEqual(20);
    expect(a!.requests).toHaveLength(1);
    expect(b!.requests).toHaveLength(1);
    const record = await gw.record(r.headers["x-switchyard-request-id"] as string);
    expect(record).toMatchObject({ status: 503, attempts: [], error: { type: "unavailable", code: "no_backend_available" } });

    const err = await gw.client.chat.completions.create(ask(true)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(503);
    expect((err as APIError).headers?.get("retry-after")).toMatch(/^(19|20)$/);
  });

  it("answers 429 with the soonest retry-after when every backend is cooling after a 429", async () => {
    const [a, b] = await upstreams({ error: { status: 429, headers: { "retry-after": "40" } } }, { error: { status: 429, headers: { "retry-after": "45" } } });
    const gw = await gateway([a!, b!], {}, { attempts: { maxAttempts: 2 } });
    const first = await gw.post(ask());
    expect(first.status).toBe(429);

    const r = await gw.post(ask());
    expect(r.status).toBe(429);
    expect(JSON.parse(r.text).error).toMatchObject({ type: "rate_limit_error", code: "backends_rate_limited" });
    expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(39);
    expect(Number(r.headers["retry-after"])).toBeLessThanOrEqual(40);
    expect(a!.requests).toHaveLength(1);
    expect(b!.requests).toHaveLength(1);
  });

  it("serves again once the cooldown is over: the first request after it is the probe", async () => {
    const [a] = await upstreams({ error: { status: 500 } });
    const gw = await gateway([a!], { consecutiveFailures: 1, cooldownMs: 1_000 }, { attempts: { maxAttempts: 1 } });
    expect((await gw.post(ask())).status).toBe(502);
    const cooling = await gw.post(ask());
    expect(cooling.status).toBe(503);
    expect(cooling.headers["retry-after"]).toBe("1");
    a!.set({});
    await cooldownOver(1_000);
    expect(await servedBy(gw)).toBe("a");
    expect(a!.requests).toHaveLength(2);
  });

  it("still sends the request to failing backends with whenAllUnavailable try", async () => {
    const [a] = await upstreams({ error: { status: 500 } });
    const gw = await gateway([a!], { consecutiveFailures: 1, cooldownMs: 20_000, whenAllUnavailable: "try" }, { attempts: { maxAttempts: 1 } });
    expect((await gw.post(ask())).status).toBe(502);
    const r = await gw.post(ask());
    expect(r.status).toBe(502);
    expect(JSON.parse(r.text).error.code).toBe("server_error");
    expect(a!.requests).toHaveLength(2);
  });

  it("counts a total-budget expiry as a failure", async () => {
    const [a, b] = await upstreams({ hang: true }, {});
    const gw = await gateway([a!, b!], { on: ["timeout"], consecutiveFailures: 1, cooldownMs: 20_000 }, { timeouts: { totalMs: 300 } });
    expect((await gw.post(ask())).status).toBe(504);
    expect(await servedBy(gw)).toBe("b");
    expect(a!.requests).toHaveLength(1);
  });
});
