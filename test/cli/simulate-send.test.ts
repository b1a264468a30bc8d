/**
 * `switchyard simulate --send`: the recorded day (test/fixtures/simulate/records.jsonl) sent for
 * real through a candidate whose backends are two loopback OpenAI upstreams that echo the
 * question (weighted 3:1, 5 requests per hour per tenant, an auth step no recorded key could pass,
 * a record sink and trace export that must stay silent), every figure checked.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulateCommand, type SimulationReport } from "../../cli/simulate.js";
import { ADMISSION_HEADER, startReplayGateway } from "../../cli/simulate-send.js";
import { loadPipelines } from "../../load/load-pipelines.js";
import { builtInRegistry, keysFile } from "../support/gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "simulate");

let a: OpenAiUpstream;
let b: OpenAiUpstream;
let dir: string;

beforeAll(async () => {
  a = await startOpenAiUpstream({ echo: true, usage: { prompt_tokens: 1000, completion_tokens: 500 } });
  b = await startOpenAiUpstream({ echo: true, usage: { prompt_tokens: 1000, completion_tokens: 500 } });
  dir = await mkdtemp(join(tmpdir(), "simulate-send-"));
  await writeFile(join(dir, "keys.json"), JSON.stringify(await keysFile([{ key: "sk-only-the-operator", id: "k-op", tenant: "ops" }])));
  await writeFile(join(dir, "pricing.json"), readFileSync(join(FIXTURE, "new-pricing.json")));
  await writeFile(join(dir, "candidate.pipeline.json"), JSON.stringify({
    id: "candidate",
    routes: [{ method: "POST", path: "/v1/chat/completions", format: "openai-chat" }],
    backends: {
      "openai-a": { use: "provider-openai", models: ["gpt-4o"], config: { baseUrl: a.url, apiKey: "sk-upstream-a-0000" } },
      "openai-b": { use: "provider-openai", models: ["gpt-4o"], config: { baseUrl: b.url, apiKey: "sk-upstream-b-0000" } },
    },
    steps: [
      { use: "auth-api-key", config: { keysFile: "./keys.json" } },
      { use: "trace-otel", config: { endpoint: "http://127.0.0.1:9/v1/traces" } },
      { use: "validate" },
      { use: "ratelimit", config: { rules: [{ id: "tenant-hourly", by: "tenant", requests: { limit: 5, window: "1h" } }] } },
      { use: "select-weighted", config: { weights: { "openai-a": 3, "openai-b": 1 } } },
      { use: "cost", config: { pricingFile: "./pricing.json" } },
      { use: "record-jsonl", config: { path: "./candidate-records.jsonl", batchSize: 1 } },
    ],
  }));
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

async function simulate(extra: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const args = ["--records", join(FIXTURE, "records.jsonl"), "--pipeline", join(dir, "candidate.pipeline.json"), "--since", "2026-11-30", ...extra];
  const code = await simulateCommand(args, await builtInRegistry(), { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) });
  return { code, out, err };
}

describe("switchyard simulate --send", () => {
  let report: SimulationReport;
  beforeAll(async () => {
    const { code, out, err } = await simulate(["--send", "--concurrency", "3", "--json"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    report = JSON.parse(out) as SimulationReport;
  });

  it("sends every replayable request to the real backends, admitting the recorded tenants without their keys", () => {
    expect(report.send).toMatchObject({ backends: "real", concurrency: 3, sent: 13 });
    // acme's 8 requests of the 09:00 hour meet 5 per hour in real time: 3 are refused; beta's 5 all fit.
    expect(report.send!.statuses).toEqual({ recorded: { "200": 12, "429": 1 }, replay: { "200": 10, "429": 3 } });
    // 10 answered, weighted 3:1 (a rotation's counts do not depend on the order requests arrive in).
    expect(a.requests.length + b.requests.length).toBe(10);
    expect([a.requests.length, b.requests.length]).toEqual([8, 2]);
    // Each upstream got its own key, never the replay's one-time admission.
    for (const r of a.requests) expect(r.headers.authorization).toBe("Bearer sk-upstream-a-0000");
    for (const r of [...a.requests, ...b.requests]) expect(r.headers["x-switchyard-replay-admission"]).toBeUndefined();
  });

  it("compares each answer's digest with the recorded one", () => {
    // Same: acme's 5 answered (recorded digest of the echoed question), beta's 12 and 15.
    // Different: rec-13 (recorded an older answer). Not comparable: acme's 3 refused, rec-14 and
    // rec-16 (recorded without a digest).
    expect(report.send!.answers).toEqual({ same: 7, different: 1, unknown: 5 });
    expect(report.send!.differentIds).toEqual(["rec-13"]);
  });

  it("puts the replay's latency beside the recorded one (200s only)", () => {
    // Recorded: 100…1200 ms over the twelve 200s; nearest rank gives the 6th and the 12th.
    expect(report.send!.latencyMs.recorded).toEqual({ p50: 600, p95: 1200 });
    const { p50, p95 } = report.send!.latencyMs.replay;
    expect(p50).toBeGreaterThan(0);
    expect(p95).toBeGreaterThanOrEqual(p50!);
  });

  it("leaves the candidate's record sinks silent", () => {
    const path = join(dir, "candidate-records.jsonl");
    expect(existsSync(path) ? readFileSync(path, "utf8") : "").toBe("");
  });

  it("prints the replay beside the records for people", async () => {
    a.requests.length = 0;
    b.requests.length = 0;
    const { code, out } = await simulate(["--send"]);
    expect(code).toBe(0);
    expect(out).toContain("sent through new for real: 13 requests, 4 at a time, to its real backends");
    expect(out).toMatch(/ {2}status 200 +12 +10\n/);
    expect(out).toMatch(/ {2}status 429 +1 +3\n/);
    expect(out).toMatch(/ {2}latency p50 \(200s\) +600\.0 ms +\d+\.\d ms\n/);
    expect(out).toContain("answers (digest of the text)  same 7, different 1, not comparable 5");
    expect(out).toContain("  different: rec-13");
  });
});

describe("the replay's admission", () => {
  it("lets in only a request carrying a token made for it, once, and as the recorded tenant; the candidate's own keys are not asked", async () => {
    const registry = await builtInRegistry();
    const { pipelines } = await loadPipelines([join(dir, "candidate.pipeline.json")], { registry });
    const gateway = await startReplayGateway(pipelines[0]!, registry, true);
    const post = (headers: Record<string, string>) =>
      fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }) });
    try {
      // Nobody else gets in: not without a token, not with a made-up one, not with the candidate's own valid key.
      for (const headers of [{}, { [ADMISSION_HEADER]: "made-up" }, { authorization: "Bearer sk-only-the-operator" }] as Record<string, string>[]) {
        const res = await post(headers);
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("replay_admission_required");
      }
      const token = gateway.admit("acme", "k-acme");
      const admitted = await post({ [ADMISSION_HEADER]: token });
      expect(admitted.status).toBe(200);
      expect(((await admitted.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("hi");
      // Used once: the same token again is refused.
      expect((await post({ [ADMISSION_HEADER]: token })).status).toBe(401);
    } finally {
      await gateway.close();
    }
  });
});
