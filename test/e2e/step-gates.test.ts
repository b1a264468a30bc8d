/**
 * A step's `when` and `onError` in a served pipeline: real HTTP in, a real OpenAI-compatible
 * upstream out. `when` decides per request whether the step's taps run (header, body and
 * composite conditions); `onError: continue` lets a request past a step that throws, the default
 * fails it; and a condition that cannot be evaluated fails the request closed, even under
 * `onError: continue`, before any upstream is contacted.
 */
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "plugins", "gates");
/** A fixture plugin as a pipeline in a fresh temp folder names it (startGateway writes pipelines one level below tmpdir). */
const fixture = (name: string) => relative(join(tmpdir(), "pipeline-dir"), join(FIXTURES, name));

const EMAIL = "jane.doe@example.com";

let upstream: OpenAiUpstream;
let gw: TestGateway;

function pipeline(id: string, steps: unknown[]) {
  return {
    id,
    routes: [{ method: "POST", path: `/${id}/v1/chat/completions`, format: "openai-chat" }],
    backends: { up: { use: "provider-openai", models: ["gpt-*"], config: { baseUrl: upstream.url, apiKey: "sk-upstream-0123456789" } } },
    steps,
  };
}

beforeAll(async () => {
  upstream = await startOpenAiUpstream({ echo: true });
  gw = await startGateway({
    "when.pipeline.json": pipeline("when", [
      {
        use: "guard-pii",
        config: { mode: "redact", kinds: ["email"] },
        when: { any: [{ header: { name: "x-tier", equals: "free" } }, { body: { pointer: "/metadata/tier", equals: "free" } }] },
      },
    ]),
    "errors.pipeline.json": pipeline("errors", [
      { use: fixture("step-fail"), id: "tolerated", onError: "continue", when: { header: { name: "x-break", equals: "tolerated" } } },
      { use: fixture("step-fail"), id: "strict", when: { header: { name: "x-break", equals: "strict" } } },
    ]),
    "closed.pipeline.json": pipeline("closed", [
      { use: fixture("step-poison-body"), when: { header: { name: "x-poison", exists: true } } },
      { use: "guard-pii", config: { mode: "redact", kinds: ["email"] }, onError: "continue", when: { body: { pointer: "/metadata/tier", equals: "free" } } },
    ]),
  });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

async function chat(pipelineId: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${gw.url}/${pipelineId}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "gpt-test", messages: [{ role: "user", content: `write to ${EMAIL}` }], ...extra }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

const upstreamText = () => upstream.requests.map((r) => r.body.messages.at(-1).content);

describe("when", () => {
  it("runs a step whose header condition matches: the upstream gets the free tier's email redacted", async () => {
    const r = await chat("when", { "x-tier": "free" });
    expect(r.status).toBe(200);
    expect(upstreamText()).toEqual(["write to [REDACTED:EMAIL]"]);
  });

  it("skips a step whose condition does not match: the paid tier's text reaches the upstream unchanged", async () => {
    const r = await chat("when", { "x-tier": "paid" });
    expect(r.status).toBe(200);
    expect(upstreamText()).toEqual([`write to ${EMAIL}`]);
  });

  it("matches an `any` through its body branch when the header branch does not", async () => {
    const r = await chat("when", { "x-tier": "paid" }, { metadata: { tier: "free" } });
    expect(r.status).toBe(200);
    expect(upstreamText()).toEqual(["write to [REDACTED:EMAIL]"]);
  });
});

describe("onError", () => {
  it("continue: a step that throws is passed over and the request is served", async () => {
    const r = await chat("errors", { "x-break": "tolerated" });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-step-fail-ran")).toBe("yes");
    expect(r.body.choices[0].message.content).toBe(`write to ${EMAIL}`);
    expect(upstream.requests).toHaveLength(1);
  });

  it("fail (the default): a step that throws fails the request with a 500 in the client's format, and no upstream is asked", async () => {
    const r = await chat("errors", { "x-break": "strict" });
    expect(r.status).toBe(500);
    expect(r.headers.get("x-step-fail-ran")).toBe("yes");
    // The step's own message stays inside: the client sees OpenAI's shape of an internal error.
    expect(r.body).toEqual({ error: { message: "internal gateway error", type: "api_error", code: "internal_error", param: null } });
    expect(upstream.requests).toHaveLength(0);
  });

  it("a failing step whose `when` does not match never runs", async () => {
    const r = await chat("errors");
    expect(r.status).toBe(200);
    expect(r.headers.get("x-step-fail-ran")).toBeNull();
  });
});

describe("a condition that cannot be evaluated", () => {
  it("fails the request closed with 500 condition_failed, even under onError: continue, before any upstream is asked", async () => {
    const r = await chat("closed", { "x-poison": "1" }, { metadata: { tier: "free" } });
    expect(r.status).toBe(500);
    expect(r.body.error).toMatchObject({ code: "condition_failed", message: "condition of step guard-pii could not be evaluated" });
    expect(upstream.requests).toHaveLength(0);
  });

  it("is evaluated normally when it can be: the same pipeline serves an unpoisoned request, redacted", async () => {
    const r = await chat("closed", {}, { metadata: { tier: "free" } });
    expect(r.status).toBe(200);
    expect(upstreamText()).toEqual(["write to [REDACTED:EMAIL]"]);
  });
});
