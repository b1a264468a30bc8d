/**
 * metrics-prometheus through a real gateway: what a scrape shows after model requests that were
 * served, fell back, were refused by a rate limit or named a model the pipeline does not know;
 * who may scrape; and that a scrape answers while a stream is still open.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { waitUntil } from "../support/wait.js";

const CLIENT_KEY = "sk-metrics-client";
const ADMIN_KEY = "sk-metrics-admin";
const PIPELINE = "metrics-e2e";

/** Prometheus text -> "name{labels}" -> value (labels as written, in the registry's order). */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The sample of `name` whose labels include every one of `labels`; undefined when there is none. */
function sample(samples: Map<string, number>, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}{`)) continue;
    if (wanted.every((w) => key.includes(w))) return value;
  }
  return undefined;
}

describe("metrics-prometheus", () => {
  let gw: TestGateway;
  const ids: string[] = [];

  const chat = async (model: string, stream = false) => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "count me" }] }),
    });
    ids.push(r.headers.get("x-switchyard-request-id") ?? "");
    await r.text();
    return r.status;
  };
  const scrape = async (key: string | null = ADMIN_KEY) => {
    const r = await fetch(`${gw.url}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
  };
  const requestsCounted = async () => {
    const samples = parseMetrics((await scrape()).text);
    let total = 0;
    for (const [key, value] of samples) if (key.startsWith("switchyard_requests_total{") && key.includes(`pipeline="${PIPELINE}"`)) total += value;
    return total;
  };

  beforeAll(async () => {
    const keys = (await keysFile([
      { key: CLIENT_KEY, id: "client", tenant: "acme" },
      { key: ADMIN_KEY, id: "ops", tenant: "ops" },
    ])) as { keys: Array<Record<string, unknown>> };
    keys.keys[1]!.role = "admin";
    gw = await startGateway({
      "keys.json": keys,
      "pricing.json": { updated: "2026-01-01", currency: "USD", models: { "model-a": { input: 1, output: 2 }, "model-slow": { input: 1, output: 2 } } },
      "obs.pipeline.json": {
        id: PIPELINE,
        routes: [
          { path: "/v1/chat/completions", format: "openai-chat" },
          { method: "GET", path: "/metrics", format: "openai-chat", endpoint: "metrics" },
        ],
        backends: {
          broken: { use: "provider-mock", models: ["model-a"], config: { fail: { status: 500 } } },
          good: { use: "provider-mock", models: ["model-a", "mock-*"], config: { usage: { inputTokens: 10, outputTokens: 5 } } },
          slow: { use: "provider-mock", models: ["model-slow"], config: { chunks: 3, chunkDelayMs: 300, usage: { inputTokens: 1, outputTokens: 1 } } },
        },
        steps: [
          { use: "metrics-prometheus", config: { models: ["mock-listed"] } },
          { use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 0 } },
          { use: "ratelimit", config: { rules: [{ id: "per-key", by: "key", requests: { limit: 7, window: "1h" } }] } },
          { use: "health-breaker", config: { consecutiveFailures: 1 } },
          { use: "stream-sse" },
          { use: "cost", config: { pricingFile: "./pricing.json" } },
          { use: "record-jsonl", config: { path: "./data/records.jsonl" } },
        ],
        attempts: { maxAttempts: 2, on: ["5xx"] },
      },
    });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it("lets only admin keys scrape: 401 without a key, 403 for a client key, Prometheus text for an admin key", async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape(CLIENT_KEY)).status).toBe(403);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.text).toContain("# TYPE switchyard_requests_total counter");
    expect(ok.text).toContain("switchyard_process_cpu_seconds_total");
  });

  it("answers a scrape while a stream is open, and counts it in flight", async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "model-slow", stream: true, messages: [{ role: "user", content: "slowly" }] }),
    });
    expect(r.status).toBe(200);
    const reader = r.body!.getReader();
    await reader.read(); // the stream is committed and open
    const during = parseMetrics((await scrape()).text);
    expect(sample(during, "switchyard_requests_in_flight", { pipeline: PIPELINE })).toBe(1);
    expect(sample(during, "switchyard_streams_open", { pipeline: PIPELINE })).toBe(1);
    while (!(await reader.read()).done);
    await waitUntil(async () => (await requestsCounted()) === 1, () => "the stream's record was not counted");
    const after = parseMetrics((await scrape()).text);
    expect(sample(after, "switchyard_requests_in_flight", { pipeline: PIPELINE })).toBe(0);
    expect(sample(after, "switchyard_streams_open", { pipeline: PIPELINE })).toBe(0);
  });

  it("counts requests, tokens, cost, attempts, fallbacks, rejections and health with bounded labels", async () => {
    // 1 stream already counted; 3 served here (the first falls back from broken, whose circuit then opens).
    expect(await chat("model-a")).toBe(200);
    expect(await chat("model-a")).toBe(200);
    expect(await chat("model-a", true)).toBe(200);
    // Names no backend lists: one the config names, one under the good backend's pattern, one nobody serves.
    expect(await chat("mock-listed")).toBe(200);
    expect(await chat("mock-anything-a-client-invents")).toBe(200);
    expect(await chat("no-such-model-x1")).toBe(404);
    // The 8th request of the key: the rate limit refuses it.
    expect(await chat("model-a")).toBe(429);
    await waitUntil(async () => (await requestsCounted()) === 8, () => "records not all counted");

    const { text } = await scrape();
    const s = parseMetrics(text);
    const p = { pipeline: PIPELINE };
    expect(sample(s, "switchyard_requests_total", { ...p, route: "/v1/chat/completions", backend: "good", model: "model-a", status_class: "2xx" })).toBe(3);
    expect(sample(s, "switchyard_requests_total", { ...p, backend: "good", model: "mock-listed", status_class: "2xx" })).toBe(1);
    // The invented name and the unknown one are both "other"; no series carries either name.
    expect(sample(s, "switchyard_requests_total", { ...p, backend: "good", model: "other", status_class: "2xx" })).toBe(1);
    expect(sample(s, "switchyard_requests_total", { ...p, backend: "none", model: "other", status_class: "4xx" })).toBe(1);
    expect(text).not.toContain("mock-anything-a-client-invents");
    expect(text).not.toContain("no-such-model-x1");
    for (const id of ids) if (id !== "") expect(text).not.toContain(id);

    expect(sample(s, "switchyard_tokens_total", { ...p, backend: "good", model: "model-a", kind: "input" })).toBe(30);
    expect(sample(s, "switchyard_tokens_total", { ...p, backend: "good", model: "model-a", kind: "output" })).toBe(15);
    // 3 x (10 input at $1/M + 5 output at $2/M)
    expect(sample(s, "switchyard_cost_usd_total", { ...p, backend: "good", model: "model-a" })).toBeCloseTo(3 * 20e-6, 12);
    expect(sample(s, "switchyard_requests_unpriced_total", { ...p, backend: "good", model: "mock-listed" })).toBe(1);

    expect(sample(s, "switchyard_attempts_total", { ...p, backend: "broken", outcome: "status" })).toBe(1);
    expect(sample(s, "switchyard_fallbacks_total", { ...p, backend: "good" })).toBe(1);
    expect(sample(s, "switchyard_upstream_duration_seconds_count", { ...p, backend: "broken", outcome: "status" })).toBe(1);
    expect(sample(s, "switchyard_request_duration_seconds_count", { ...p, route: "/v1/chat/completions", status_class: "2xx" })).toBe(6);
    expect(sample(s, "switchyard_time_to_first_byte_seconds_count", { ...p, route: "/v1/chat/completions", stream: "true" })).toBe(2);
    expect(sample(s, "switchyard_rejections_total", { ...p, reason: "rate_limit_exceeded" })).toBe(1);

    expect(sample(s, "switchyard_backend_circuit_state", { ...p, backend: "broken", state: "open" })).toBe(1);
    expect(sample(s, "switchyard_backend_circuit_state", { ...p, backend: "broken", state: "closed" })).toBe(0);
    expect(sample(s, "switchyard_store_up", { ...p, kind: "memory" })).toBe(1);
    expect(sample(s, "switchyard_record_sink_pending_records", { ...p, sink: "record-jsonl", plugin: "record-jsonl" })).toBeGreaterThanOrEqual(0);
    expect(sample(s, "switchyard_requests_in_flight", p)).toBe(0);
    // Scrapes are admin calls: they count nowhere.
    expect(text).not.toContain('route="/metrics"');
  });

  it("shows the last load of the pipeline files: a good start, then a reload that failed while the old pipelines serve on", async () => {
    const before = parseMetrics((await scrape()).text);
    expect(before.get("switchyard_last_reload_success")).toBe(1);
    expect(before.get("switchyard_last_reload_errors")).toBe(0);
    const file = join(gw.dir, "obs.pipeline.json");
    const good = await readFile(file, "utf8");
    const broken = JSON.parse(good);
    broken.steps.find((step: { use: string }) => step.use === "health-breaker").config.consecutiveFailures = "one";
    await writeFile(file, JSON.stringify(broken));
    try {
      const result = await gw.reloader.reload("admin");
      expect(result !== "busy" && result.ok).toBe(false);
      const after = parseMetrics((await scrape()).text);
      expect(after.get("switchyard_last_reload_success")).toBe(0);
      expect(after.get("switchyard_last_reload_errors")).toBe(1);
      expect(after.get("switchyard_last_reload_timestamp_seconds")).toBeGreaterThanOrEqual(before.get("switchyard_last_reload_timestamp_seconds")!);
    } finally {
      await writeFile(file, good);
    }
  });
});
