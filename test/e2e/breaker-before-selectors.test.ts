/**
 * health-breaker placed before a load-spreading selector, as its description says: one backend
 * refusing connections, one answering 500, one healthy. Each dead backend may cost one failed
 * first try (the one that opens its circuit); after that every selector spreads over the healthy
 * part of the plan only and keeps the open circuits behind, instead of rotating (or picking) them
 * back to the front.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ask, startFaultGateway, type FaultGateway } from "../support/fault-gateway.js";
import { closedPortUrl, startOpenAiUpstream } from "../support/upstream-openai.js";

const REQUESTS = 40;
const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const SELECTORS: Record<string, Record<string, unknown> | undefined> = {
  "select-round-robin": undefined,
  "select-weighted": undefined,
  "select-random": undefined,
  "select-least-busy": undefined,
  "select-latency": undefined,
  "select-sticky": { key: "header:x-session" },
  "select-cost": { pricingFile: "./pricing.json" },
  "select-bandit": { seed: 7 },
};

describe("health-breaker before each load-spreading selector", () => {
  for (const [selector, config] of Object.entries(SELECTORS)) {
    it(`${selector} spreads over the healthy backends and tries the open circuits at most once each`, async () => {
      const refusing = await closedPortUrl();
      const failing = await startOpenAiUpstream({ error: { status: 500 } });
      const healthy = await startOpenAiUpstream({});
      open.push(failing, healthy);
      const gw: FaultGateway = await startFaultGateway({
        upstreams: [refusing, failing.url, healthy.url],
        before: [{ use: "health-breaker", config: { consecutiveFailures: 1, cooldownMs: 600_000 } }],
        selector: { use: selector, ...(config ? { config } : {}) },
        attempts: { maxAttempts: 3 },
        // Cost: the dead backends are the cheap ones, so a plan ordered by price alone starts with them.
        modelMaps: { a: { "gpt-test": "cheap" }, b: { "gpt-test": "mid" }, c: { "gpt-test": "dear" } },
        files: { "pricing.json": { currency: "USD", updated: "2026-01-01", models: { cheap: { input: 1, output: 1 }, mid: { input: 2, output: 2 }, dear: { input: 3, output: 3 } } } },
      });
      open.unshift(gw);

      let attempts = 0;
      for (let i = 0; i < REQUESTS; i++) {
        // Sticky: a different session each time, so its hashing alone would spread over all three.
        const { response } = await gw.client.chat.completions.create(ask(), { headers: { "x-session": `s${i}` } }).withResponse();
        expect(response.headers.get("x-switchyard-backend")).toBe("c");
        attempts += Number(response.headers.get("x-switchyard-attempts"));
      }
      // Every request succeeded on c; the extra attempts are first tries of dead backends.
      expect(attempts - REQUESTS).toBeLessThanOrEqual(2);
      expect(failing.requests.length).toBeLessThanOrEqual(1);
    });
  }
});
