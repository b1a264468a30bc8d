/**
 * Governance steps together in one served pipeline, as a gateway in front of a paid API runs
 * them: auth, ratelimit (x-ratelimit-* headers, 429 past the limit), budget (the worst case
 * reserved while a request is in flight, settled to the real cost after it) and guard-pii (what
 * the upstream receives), with the cost step pricing each reply from the upstream's usage.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";

// Every reply costs 1000 input tokens at $1 per million: $0.001. The budget reserves $0.006 up front.
const USAGE = { prompt_tokens: 1000, completion_tokens: 10 };
const KEYS = { limits: "sk-gov-limits", budget: "sk-gov-budget", pii: "sk-gov-pii" };

let upstream: OpenAiUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startOpenAiUpstream({ usage: USAGE, echo: true });
  gw = await startGateway({
    "keys.json": await keysFile([
      { key: KEYS.limits, id: "limits", tenant: "t-limits" },
      { key: KEYS.budget, id: "budget", tenant: "t-budget" },
      { key: KEYS.pii, id: "pii", tenant: "t-pii" },
    ]),
    "pricing.json": { updated: "2026-01-01", currency: "USD", models: { "gpt-gov": { input: 1, output: 0 } } },
    "governed.pipeline.json": {
      id: "governed",
      routes: [{ method: "POST", path: "/v1/chat/completions", format: "openai-chat" }],
      backends: { up: { use: "provider-openai", models: ["gpt-gov"], config: { baseUrl: upstream.url, apiKey: "sk-upstream-0123456789" } } },
      steps: [
        { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } },
        { use: "validate" },
        { use: "ratelimit", config: { rules: [{ id: "per-key", by: "key", requests: { limit: 4, window: "1h" } }] } },
        {
          use: "budget",
          config: {
            budgets: [{ id: "daily", by: "tenant", limitUsd: 0.01, period: "day", warnAt: 0.01 }],
            estimate: { flatUsd: 0.006 },
          },
        },
        { use: "guard-pii", config: { mode: "redact" } },
        { use: "cost", config: { pricingFile: "./pricing.json" } },
      ],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.set({ usage: USAGE, echo: true });
});

async function chat(key: string, content = "hello") {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-gov", messages: [{ role: "user", content }] }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe("a governed pipeline", () => {
  it("counts requests per key down in x-ratelimit-* headers and answers 429 with retry-after past the limit, without asking the upstream", async () => {
    const before = upstream.requests.length;
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await chat(KEYS.limits);
      expect(r.status).toBe(200);
      expect(r.headers.get("x-ratelimit-limit-requests")).toBe("4");
      expect(r.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d+)?(ms|s|m|h)/);
      remaining.push(r.headers.get("x-ratelimit-remaining-requests"));
    }
    expect(remaining).toEqual(["3", "2", "1", "0"]);
    const refused = await chat(KEYS.limits);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: "rate_limit_error" });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(upstream.requests.length).toBe(before + 4);
  });

  it("reserves a budget's worst case while a request is in flight and settles it to the real cost afterwards", async () => {
    // First request held at the upstream: its $0.006 reservation stands.
    let release!: () => void;
    upstream.queue({ holdUntil: new Promise<void>((resolve) => (release = resolve)) });
    const before = upstream.requests.length;
    const held = chat(KEYS.budget);
    await upstream.waitForRequests(before + 1);
    // $0.006 reserved + $0.006 for this one would pass the $0.01 cap.
    const refused = await chat(KEYS.budget);
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({ code: "budget_exceeded" });
    expect(upstream.requests.length).toBe(before + 1);

    release();
    const first = await held;
    expect(first.status).toBe(200);
    expect(first.headers.get("x-switchyard-budget-warning")).toBe("daily (by tenant): 60% of $0.01 per day used");
    expect(Number(first.headers.get("x-switchyard-cost-usd"))).toBe(0.001);

    // Settled to $0.001: each next request reserves its $0.006 on top of the real spend so far.
    const second = await chat(KEYS.budget);
    expect(second.status).toBe(200);
    expect(second.headers.get("x-switchyard-budget-warning")).toBe("daily (by tenant): 70% of $0.01 per day used");
    const third = await chat(KEYS.budget);
    expect(third.status).toBe(200);
    expect(third.headers.get("x-switchyard-budget-warning")).toBe("daily (by tenant): 80% of $0.01 per day used");
  });

  it("redacts personal data before the upstream sees it", async () => {
    const r = await chat(KEYS.pii, "mail jane.doe@example.com or call +44 20 7946 0958 about card 4111 1111 1111 1111");
    expect(r.status).toBe(200);
    const sent = upstream.requests.at(-1)!.body.messages.at(-1).content as string;
    expect(sent).toContain("[REDACTED:EMAIL]");
    expect(sent).toContain("[REDACTED:CARD]");
    expect(sent).not.toContain("jane.doe@example.com");
    expect(sent).not.toContain("4111 1111 1111 1111");
    // The echoing upstream shows the client what it was sent: the redacted prompt.
    expect(r.body.choices[0].message.content).toBe(sent);
  });
});
