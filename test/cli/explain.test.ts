/**
 * `switchyard explain` and `POST /admin/explain`: a dry run of one request through a pipeline of
 * every step kind (auth, endpoint, validate, guard, rate limit, budget, health, selector,
 * translate, stream, cost), with nothing sent upstream (the anthropic backend's address is a
 * closed port) and nothing reserved (explaining over and over never uses up a limit).
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { explainCommand } from "../../cli/explain.js";
import type { Explanation } from "../../lib/explain/explain-request.js";
import { builtInRegistry, startGateway, type TestGateway } from "../support/gateway.js";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "explain");
const GATES = join(import.meta.dirname, "..", "fixtures", "plugins", "gates");
const ACME = "authorization: Bearer sk-explain-acme";
const CHAT = { model: "gpt-4o", messages: [{ role: "user", content: "mail jane.doe@example.com" }], max_tokens: 200, logit_bias: { "50256": -100 }, stream: true };

let dir: string;

/** The fixture pipeline with its relative paths made absolute, changed by `edit`, written to a fresh folder. */
async function pipelineFile(name: string, edit: (p: Record<string, any>) => void = () => {}): Promise<string> {
  const spec = JSON.parse(await readFile(join(FIXTURE, "explain.pipeline.json"), "utf8"));
  spec.steps[0].config.keysFile = join(FIXTURE, "keys.json");
  spec.steps.find((s: { use: string }) => s.use === "cost").config.pricingFile = join(FIXTURE, "..", "..", "..", "pipelines", "pricing.json");
  edit(spec);
  const path = join(dir, `${name}.pipeline.json`);
  await writeFile(path, JSON.stringify(spec));
  return path;
}

async function explain(pipeline: string, request: unknown, ...flags: string[]): Promise<{ code: number; out: string; err: string }> {
  const file = join(dir, `request-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(request));
  let out = "";
  let err = "";
  const code = await explainCommand([pipeline, file, ...flags], await builtInRegistry(), { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) });
  return { code, out, err };
}

async function explainJson(pipeline: string, request: unknown, ...flags: string[]): Promise<Explanation> {
  const { code, out, err } = await explain(pipeline, request, ...flags, "--json");
  expect(err).toBe("");
  expect(code).toBe(0);
  return JSON.parse(out) as Explanation;
}

const step = (e: Explanation, id: string) => e.steps.find((s) => s.id === id)!;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-explain-"));
});

describe("switchyard explain", () => {
  it("walks every step kind in order with its phases, and plans, translates and streams a request that would be served", async () => {
    const e = await explainJson(await pipelineFile("served"), CHAT, "--header", ACME, "--header", "x-pii: scrub");
    expect(e.route).toEqual({ method: "POST", path: "/v1/chat/completions", format: "openai-chat", endpoint: "generate", admin: false });
    expect(e.request).toMatchObject({ model: "gpt-4o", stream: true, tenant: "acme", keyId: "k-acme" });
    expect(e.steps.map((s) => [s.id, s.hooks, s.outcome])).toEqual([
      ["auth-api-key", ["auth"], "passed"],
      ["explain", ["endpoint"], "later"],
      ["validate", ["validate"], "passed"],
      ["guard-pii", ["validate"], "passed"],
      ["ratelimit", ["validate", "settle"], "passed"],
      ["budget", ["validate", "settle"], "passed"],
      ["health-breaker", ["attemptStarted", "attemptFinished", "plan"], "passed"],
      ["select-weighted", ["plan"], "passed"],
      ["translate", ["translate"], "later"],
      ["stream-sse", ["streamPolicy"], "later"],
      ["cost", ["usage"], "later"],
    ]);
    expect(step(e, "guard-pii").when).toEqual({ matches: true, decidedBy: '/steps/3/when/any/0/header {"name":"x-pii","equals":"scrub"}: header sent, matched' });
    // The plan: both backends serve gpt-4o (one by its model map); the weighted pick puts claude first.
    expect(e.plan!.candidates.map((c) => [c.backend, c.model])).toEqual([["mock", "gpt-4o"], ["claude", "claude-sonnet-4-5"]]);
    expect(e.plan!.candidates[1]!.why).toMatch(/by its model map/);
    expect(e.plan!.byStep).toEqual([
      { step: "health-breaker", order: ["mock", "claude"], says: ["left the plan as it was: mock, claude"] },
      { step: "select-weighted", order: ["claude", "mock"], says: ["picks claude (mock weight 1 score 1, claude weight 3 score 3)", "mock, claude → claude, mock"] },
    ]);
    expect(e.plan!.final.map((a) => [a.backend, a.state?.breaker?.state])).toEqual([["claude", "closed"], ["mock", "closed"]]);
    // Attempts: translated for the Anthropic backend (logit_bias dropped by the translate policy), passed through for the mock.
    expect(e.attempts!.list.map((a) => [a.backend, a.retry, a.backendFormat, a.passthrough, a.dropped])).toEqual([
      ["claude", false, "anthropic-messages", false, ["logit_bias"]],
      ["mock", false, "openai-chat", true, []],
      ["claude", true, "anthropic-messages", false, ["logit_bias"]],
    ]);
    expect(e.stream).toEqual({ relayed: true, idleTimeoutMs: 60000 });
    expect(e.refusal).toBeUndefined();
    expect(e.verdict).toMatch(/^would be sent to claude as claude-sonnet-4-5 \(openai-chat → anthropic-messages, translated\)/);
  });

  it("lists what limits and budgets would reserve without reserving it: explaining three times under a limit of two requests never refuses", async () => {
    const file = await pipelineFile("reserves");
    for (let i = 0; i < 3; i++) {
      const e = await explainJson(file, CHAT, "--tenant", "acme");
      expect(e.reserves).toEqual([
        { step: "ratelimit", rule: "tenant-rpm", subject: "tenant acme", unit: "requests", amount: 1, limit: 2, used: 0, per: "1m", fits: true },
        { step: "ratelimit", rule: "tenant-rpm", subject: "tenant acme", unit: "tokens", amount: expect.any(Number), limit: 100000, used: 0, per: "1m", fits: true },
        { step: "budget", rule: "tenant-day", subject: "tenant acme", unit: "usd", amount: expect.any(Number), limit: 1, used: 0, per: "day", fits: true },
      ]);
      expect(step(e, "auth-api-key").says).toEqual(["auth not run: explained as tenant acme"]);
    }
  });

  it("says which matcher decided a `when` that does not match, and skips the step", async () => {
    const e = await explainJson(await pipelineFile("when"), { ...CHAT, stream: false }, "--tenant", "acme");
    expect(step(e, "guard-pii")).toMatchObject({ outcome: "skipped", when: { matches: false, decidedBy: "/steps/3/when/any: no condition matched" } });
    const free = await explainJson(await pipelineFile("when-tenant"), { ...CHAT, stream: false }, "--tenant", "free-trial");
    expect(step(free, "guard-pii").when).toEqual({ matches: true, decidedBy: '/steps/3/when/any/1/tenant "free-*": got "free-trial", matched' });
  });

  it("shows a `when` that cannot be evaluated failing the request closed with the client's 500", async () => {
    const file = await pipelineFile("closed", (p) => {
      p.steps.splice(3, 0, { use: relative(dir, join(GATES, "step-poison-body")) });
      p.steps[4].when = { body: { pointer: "/metadata/tier", equals: "free" } };
    });
    const e = await explainJson(file, CHAT, "--tenant", "acme");
    expect(step(e, "guard-pii")).toMatchObject({ outcome: "refused", when: { failed: "condition of step guard-pii could not be evaluated" } });
    expect(e.refusal).toMatchObject({ step: "guard-pii", status: 500, code: "condition_failed", body: { error: { code: "condition_failed", type: "api_error" } } });
    expect(step(e, "ratelimit").outcome).toBe("not reached");
    expect(e.plan).toBeUndefined();
  });

  it("shows a request auth would refuse with the error and headers the client would get", async () => {
    const { code, out } = await explain(await pipelineFile("refused"), CHAT);
    expect(code).toBe(0);
    expect(out).toContain("client gets 401 (www-authenticate: Bearer)");
    expect(out).toContain('"code":"missing_api_key"');
    expect(out).toMatch(/verdict {3}refused by auth-api-key: 401 missing_api_key/);
  });

  it("shows the 400 a strict translate policy would answer, in the client's own format", async () => {
    const file = await pipelineFile("strict", (p) => {
      p.steps.find((s: { use: string }) => s.use === "translate").config = { policy: "strict" };
      p.steps.find((s: { use: string }) => s.use === "select-weighted").config.weights = { mock: 1, claude: 3 };
    });
    const e = await explainJson(file, { model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }], logit_bias: { "1": 1 } }, "--tenant", "acme");
    expect(e.attempts!.list[0]).toMatchObject({ backend: "claude", error: { status: 400, code: "unsupported_field" } });
    expect(e.refusal).toMatchObject({ step: "translate", status: 400, body: { error: { code: "unsupported_field", type: "invalid_request_error" } } });
  });

  it("explains a route by its path in the client's format (Anthropic messages to a passed-through backend)", async () => {
    const e = await explainJson(await pipelineFile("anthropic"), { method: "POST", path: "/v1/messages", body: { model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] } }, "--tenant", "acme");
    expect(e.route?.format).toBe("anthropic-messages");
    expect(e.attempts!.list[0]).toMatchObject({ backend: "claude", backendFormat: "anthropic-messages", passthrough: true });
  });

  it("refuses a model no backend serves with the client's 404, and a request no route takes", async () => {
    const e = await explainJson(await pipelineFile("unknown"), { ...CHAT, model: "nope" }, "--tenant", "acme");
    expect(e.refusal).toMatchObject({ step: "core", status: 404, code: "model_not_found" });
    const lost = await explainJson(await pipelineFile("lost"), CHAT, "--path", "/v2/none");
    expect(lost.verdict).toBe("no route of pipeline explained takes POST /v2/none: 404 unknown_route");
  });

  it("shows each bandit arm's estimate and share, and a round-robin's next pick without moving its rotation", async () => {
    const file = await pipelineFile("bandit", (p) => {
      p.routes = p.routes.slice(0, 1);
      p.backends = { a: { use: "provider-mock", models: ["mock-*"] }, b: { use: "provider-mock", models: ["mock-*"] } };
      p.steps = [{ use: "select-round-robin" }, { use: "select-bandit", config: { strategy: "thompson", explore: 0.1 } }, { use: "stream-sse" }];
    });
    const first = await explainJson(file, { model: "mock-small", messages: [{ role: "user", content: "hi" }] });
    const arms = step(first, "select-bandit").detail!.arms as { arm: string; estimate: number; share: number }[];
    expect(arms.map((a) => a.arm)).toEqual(["a@mock-small", "b@mock-small"]);
    // No evidence yet: each arm's estimate is the uniform prior's mean, and the shares split the traffic.
    for (const arm of arms) expect(arm.estimate).toBe(0.5);
    expect(arms[0]!.share + arms[1]!.share).toBeCloseTo(1, 6);
    expect(step(first, "select-bandit").says[1]).toMatch(/^a@mock-small: estimate 0\.500 over 0\.0 observations, share \d+\.\d%$/);
    expect(step(first, "select-round-robin").says).toEqual(["next in rotation: a"]);
    // Explained again: the rotation did not move on.
    const again = await explainJson(file, { model: "mock-small", messages: [{ role: "user", content: "hi" }] });
    expect(again.plan!.byStep[0]).toEqual({ step: "select-round-robin", order: ["a", "b"], says: ["next in rotation: a", "left the plan as it was: a, b"] });
  });

  it("prints people's output by default, and a usage error without two paths", async () => {
    const { out } = await explain(await pipelineFile("human"), CHAT, "--header", ACME);
    expect(out).toMatch(/^pipeline {2}explained\nroute {5}POST \/v1\/chat\/completions {2}\(openai-chat, endpoint generate\)/);
    expect(out).toContain("would reserve (nothing was)");
    let err = "";
    expect(await explainCommand(["only-one"], await builtInRegistry(), { write: () => 0 }, { write: (t: string) => (err += t) })).toBe(1);
    expect(err).toMatch(/switchyard explain PIPELINE_FILE_OR_DIR REQUEST\.json/);
  });
});

describe("POST /admin/explain", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const spec = JSON.parse(await readFile(await pipelineFile("served-admin"), "utf8"));
    gw = await startGateway({ "explained.pipeline.json": spec });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const post = (path: string, key: string, body: unknown) =>
    fetch(`${gw.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  it("answers admins with the dry run, and shows the rate limit real traffic used up as the 429 the client would get", async () => {
    const chat = { model: "mock-small", messages: [{ role: "user", content: "hi" }] };
    const before = await post("/admin/explain", "sk-explain-admin", { body: chat, tenant: "acme" });
    expect(before.status).toBe(200);
    const fits = (await before.json()) as Explanation & { text: string };
    expect(fits.verdict).toMatch(/^would be sent to mock/);
    expect(fits.text).toContain("verdict   would be sent to mock");
    // Explaining reserved nothing: two real requests still fit the limit of two.
    for (let i = 0; i < 2; i++) expect((await post("/v1/chat/completions", "sk-explain-acme", chat)).status).toBe(200);
    const after = (await (await post("/admin/explain", "sk-explain-admin", { body: chat, tenant: "acme" })).json()) as Explanation;
    expect(after.refusal).toMatchObject({ step: "ratelimit", status: 429, code: "rate_limit_exceeded", body: { error: { type: "rate_limit_error", code: "rate_limit_exceeded" } } });
    expect(after.reserves[0]).toMatchObject({ unit: "requests", used: 2, limit: 2, fits: false });
    expect((await post("/v1/chat/completions", "sk-explain-acme", chat)).status).toBe(429);
  });

  it("refuses client keys, and a body without the request to explain", async () => {
    expect((await post("/admin/explain", "sk-explain-acme", { body: {} })).status).toBe(403);
    const bad = await post("/admin/explain", "sk-explain-admin", { path: "/v1/chat/completions" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_explain_request");
  });
});
