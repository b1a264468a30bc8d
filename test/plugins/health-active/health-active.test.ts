import { afterEach, describe, expect, it, vi } from "vitest";
import type { Attempt, Backend, Logger } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestProvider, createTestStep } from "../../../testkit/index.js";
import healthActive from "../../../plugins/health-active/index.js";
import providerHttp from "../../../plugins/provider-http/index.js";
import { refusingPort, startUpstream, type HttpUpstream } from "../../support/http-upstream.js";
import { WAIT_MS } from "../../support/wait.js";
import { askBackendStates } from "../../../lib/health/report.js";

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** An upstream whose health path answers `health.status` (or never, when null) and counts probes. */
async function service(): Promise<HttpUpstream & { health: { status: number | null; probes: number[] } }> {
  const health = { status: 200 as number | null, probes: [] as number[] };
  const up = await startUpstream((req, res) => {
    if (req.url !== "/healthz") {
      res.end("app");
      return;
    }
    if (health.status === null) return; // hangs
    health.probes.push(health.status);
    res.statusCode = health.status;
    res.end(health.status < 400 ? "ok" : "failing");
  });
  opened.push(up);
  return Object.assign(up, { health });
}

async function httpBackend(id: string, baseUrl: string): Promise<Backend> {
  const provider = await createTestProvider(providerHttp, { baseUrl });
  opened.push(provider);
  return { id, use: "provider-http", provider, models: ["*"], modelMap: {} };
}

async function checker(config: Record<string, unknown>, backends: Backend[], log?: Logger) {
  const map = new Map(backends.map((b) => [b.id, b]));
  const { hooks, instance } = await createTestStep(healthActive, { path: "/healthz", intervalMs: 10, timeoutMs: 200, ...config }, log ? { backends: map, log } : { backends: map });
  opened.unshift({ close: () => instance.close!() });
  const attempts: Attempt[] = backends.map((backend) => ({ backend, model: "" }));
  const exchange = createTestExchange();
  return {
    instance,
    plan: async () => (await hooks.plan.promise(attempts, exchange)).map((a) => a.backend.id).join(","),
    /** Each probed backend's health as the backend-states question reports it. */
    states: async () => Object.fromEntries([...(await askBackendStates(hooks))].map(([id, state]) => [id, state.probe?.healthy])),
  };
}

describe("health-active", () => {
  it("takes a backend out after unhealthyAfter failed probes and brings it back after healthyAfter passing ones", async () => {
    const a = await service();
    const b = await service();
    const hc = await checker({ unhealthyAfter: 3, healthyAfter: 2 }, [await httpBackend("a", a.url), await httpBackend("b", b.url)]);
    await vi.waitFor(() => expect(a.health.probes.length).toBeGreaterThanOrEqual(2), { timeout: WAIT_MS });
    expect(await hc.plan()).toBe("a,b");

    a.health.status = 503;
    await vi.waitFor(async () => expect(await hc.plan()).toBe("b"), { timeout: WAIT_MS });
    expect(a.health.probes.filter((s) => s === 503).length).toBeGreaterThanOrEqual(3);
    expect(await hc.states()).toEqual({ a: false, b: true });

    const failedBefore = a.health.probes.length;
    a.health.status = 200;
    await vi.waitFor(async () => expect(await hc.plan()).toBe("a,b"), { timeout: WAIT_MS });
    expect(a.health.probes.slice(failedBefore).filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
  });

  it("counts refused connections, timeouts and statuses outside expectStatus as failures", async () => {
    const hanging = await service();
    hanging.health.status = null;
    const redirecting = await service();
    redirecting.health.status = 302;
    const fine = await service();
    const hc = await checker({ unhealthyAfter: 1, timeoutMs: 50, expectStatus: ["2xx"], drop: false }, [
      await httpBackend("refused", `http://127.0.0.1:${await refusingPort()}`),
      await httpBackend("hanging", hanging.url),
      await httpBackend("redirecting", redirecting.url),
      await httpBackend("fine", fine.url),
    ]);
    await vi.waitFor(async () => expect(await hc.plan()).toBe("fine,refused,hanging,redirecting"), { timeout: WAIT_MS });
  });

  it("drops down backends by default, and leaves the plan whole when every backend is down", async () => {
    const a = await service();
    const b = await service();
    const hc = await checker({ unhealthyAfter: 1 }, [await httpBackend("a", a.url), await httpBackend("b", b.url)]);
    a.health.status = 500;
    await vi.waitFor(async () => expect(await hc.plan()).toBe("b"), { timeout: WAIT_MS });
    b.health.status = 500;
    await vi.waitFor(async () => expect(await hc.plan()).toBe("a,b"), { timeout: WAIT_MS });
  });

  it("leaves backends that cannot be probed where the plan put them", async () => {
    const a = await service();
    a.health.status = 500;
    const hc = await checker({ unhealthyAfter: 1, drop: false }, [await httpBackend("a", a.url), createTestBackend("llm"), createTestBackend("llm2")]);
    await vi.waitFor(async () => expect(await hc.plan()).toBe("llm,llm2,a"), { timeout: WAIT_MS });
  });

  it("logs when a backend goes down and when it comes back", async () => {
    const a = await service();
    const b = await service();
    const lines: string[] = [];
    const log = { info: (_o: unknown, m: string) => lines.push(`info ${m}`), warn: (_o: unknown, m: string) => lines.push(`warn ${m}`), debug: () => {}, error: () => {}, child: () => log } as unknown as Logger;
    const hc = await checker({ unhealthyAfter: 2, healthyAfter: 1 }, [await httpBackend("a", a.url), await httpBackend("b", b.url)], log);
    a.health.status = 500;
    await vi.waitFor(async () => expect(await hc.plan()).toBe("b"), { timeout: WAIT_MS });
    a.health.status = 200;
    await vi.waitFor(async () => expect(await hc.plan()).toBe("a,b"), { timeout: WAIT_MS });
    expect(lines).toEqual(["warn health-active: backend failed 2 probes, taken out of rotation", "info health-active: backend passed 1 probes, back in rotation"]);
  });

  it("stops probing when closed", async () => {
    const a = await service();
    const hc = await checker({}, [await httpBackend("a", a.url)]);
    // A second checker on the same interval keeps running: its probes show that intervals went by.
    const clock = await service();
    await checker({}, [await httpBackend("clock", clock.url)]);
    await vi.waitFor(() => expect(a.health.probes.length).toBeGreaterThanOrEqual(2), { timeout: WAIT_MS });
    await hc.instance.close!();
    const count = a.health.probes.length;
    const ticks = clock.health.probes.length;
    await vi.waitFor(() => expect(clock.health.probes.length).toBeGreaterThanOrEqual(ticks + 10), { timeout: WAIT_MS });
    // At most the probe already on the wire when close() aborted it.
    expect(a.health.probes.length).toBeLessThanOrEqual(count + 1);
  });

  it("refuses a pipeline without a backend it could probe", async () => {
    const backends = new Map([["llm", createTestBackend("llm")]]);
    await expect(createTestStep(healthActive, {}, { backends })).rejects.toThrow("no backend of this pipeline can be probed");
  });
});
