/**
 * The wait between retries of a backend already tried, in a served gateway: exponential backoff
 * (backoffMs × 2^(retry-1), capped at maxBackoffMs) scaled by a full-jitter draw, and never a
 * wait that would pass the total budget (then the failure is answered at once). Math.random is
 * pinned so each wait is known; what is asserted is what the upstream saw (how many attempts, and
 * gaps at least as long as the wait), never an upper bound on time.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ask, startFaultGateway, type FaultGateway, type FaultGatewayOptions } from "../support/fault-gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** One backend that fails twice with a 500 (no retry-after), then answers. */
async function flakyBackend(options: Partial<FaultGatewayOptions>): Promise<{ upstream: OpenAiUpstream; gw: FaultGateway }> {
  const upstream = await startOpenAiUpstream();
  open.push(upstream);
  upstream.queue({ error: { status: 500 } }, { error: { status: 500 } });
  const gw = await startFaultGateway({ upstreams: [upstream.url], ...options });
  open.unshift(gw);
  return { upstream, gw };
}

const gaps = (u: OpenAiUpstream) => u.requests.slice(1).map((r, i) => r.receivedAt - u.requests[i]!.receivedAt);
// Timer clocks count whole milliseconds: a timer may end up to 1 ms before its delay.
const atLeast = (ms: number) => ms - 2;

describe("backoff between retries of the same backend", () => {
  it("doubles the wait with each retry, scaled by the jitter draw", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.75);
    const { upstream, gw } = await flakyBackend({ attempts: { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 10_000 } });
    const r = await gw.post(ask());
    expect(r.status).toBe(200);
    expect(r.headers["x-switchyard-attempts"]).toBe("3");
    const [first, second] = gaps(upstream) as [number, number];
    expect(first).toBeGreaterThanOrEqual(atLeast(0.75 * 200));
    expect(second).toBeGreaterThanOrEqual(atLeast(0.75 * 400));
  });

  it("caps the wait at maxBackoffMs: a 60 s backoff capped at 300 ms still retries within a 20 s budget", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999);
    const { upstream, gw } = await flakyBackend({ attempts: { maxAttempts: 3, backoffMs: 60_000, maxBackoffMs: 300 }, timeouts: { totalMs: 20_000 } });
    const r = await gw.post(ask());
    expect(r.status).toBe(200);
    expect(r.headers["x-switchyard-attempts"]).toBe("3");
    for (const gap of gaps(upstream)) expect(gap).toBeGreaterThanOrEqual(atLeast(0.999 * 300));
  });

  it("draws the wait from the whole jitter range: a low draw retries although the full backoff would pass the total budget", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.001);
    const { upstream, gw } = await flakyBackend({ attempts: { maxAttempts: 3, backoffMs: 60_000, maxBackoffMs: 60_000 }, timeouts: { totalMs: 20_000 } });
    const r = await gw.post(ask());
    expect(r.status).toBe(200);
    expect(r.headers["x-switchyard-attempts"]).toBe("3");
    expect(upstream.requests).toHaveLength(3);
  });

  it("answers the failure without retrying when the drawn wait would pass the total budget", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999);
    const { upstream, gw } = await flakyBackend({ attempts: { maxAttempts: 3, backoffMs: 60_000, maxBackoffMs: 60_000 }, timeouts: { totalMs: 20_000 } });
    const r = await gw.post(ask());
    expect(r.status).toBe(502);
    expect(r.headers["x-switchyard-attempts"]).toBe("1");
    expect(upstream.requests).toHaveLength(1);
  });
});
