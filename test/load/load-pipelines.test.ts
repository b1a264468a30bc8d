import { fileURLToPath } from "node:url";
import { Volume } from "memfs";
import { describe, expect, it } from "vitest";
import type { Problem } from "../../load/json-locations.js";
import { loadPipelines } from "../../load/load-pipelines.js";
import { redactSecrets } from "../../core/contract/log.js";
import { PluginRegistry } from "../../load/registry.js";
import { createTestExchange } from "../../testkit/index.js";
import formatFake from "../fixtures/plugins/builtin/format-fake/index.js";
import providerFake from "../fixtures/plugins/builtin/provider-fake/index.js";
import stepEcho from "../fixtures/plugins/builtin/step-echo/index.js";
import listModels from "../../plugins/list-models/index.js";
import usageApi from "../../plugins/usage-api/index.js";

const registry = PluginRegistry.fromPlugins([stepEcho, providerFake, formatFake, listModels, usageApi]);

async function load(files: Record<string, string>, paths = Object.keys(files), env: Record<string, string> = {}) {
  const vol = Volume.fromJSON(files);
  return loadPipelines(paths, { registry, fs: vol.promises, env });
}

/** `line:col` (1-based) of the `nth` occurrence of `needle` in `text`: where a problem about that token must point. */
function at(text: string, needle: string, nth = 0): string {
  let index = -1;
  for (let i = 0; i <= nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" not found`);
  }
  const before = text.slice(0, index).split("\n");
  return `${before.length}:${(before[before.length - 1] ?? "").length + 1}`;
}

const show = (problems: Problem[]) => problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);

/** A valid pipeline with `patch` spliced into its steps array. */
const pipeline = (steps: string, extra = "") => `{
  "id": "chat",${extra}
  "routes": [{ "path": "/v1/chat/completions", "format": "fake-chat" }],
  "backends": { "fake": { "use": "provider-fake", "config": { "baseUrl": "http://127.0.0.1:9" } } },
  "steps": [
${steps}
  ]
}`;

describe("a valid file", () => {
  const text = `{
  "$schema": "../schemas/pipeline.schema.json",
  "id": "chat",
  "routes": [
    { "path": "/v1/chat/completions", "format": "fake-chat" },
    { "method": "GET", "path": "/v1/models", "format": "fake-chat", "endpoint": "models" }
  ],
  "backends": {
    "fake": { "use": "provider-fake", "config": { "baseUrl": "http://127.0.0.1:9", "apiKey": "Bearer \${env:FAKE_KEY}" } }
  },
  "steps": [
    { "use": "step-echo", "when": { "model": "gpt-*" } },
    { "use": "step-echo", "id": "echo-2", "config": { "greeting": "\${file:./secrets/greeting.txt}" }, "onError": "continue" },
    { "use": "step-echo", "id": "echo-3", "config": { "greeting": "costs $\${env:PRICE} and $5" } },
    { "use": "list-models" }
  ]
}`;

  it("loads with schema and plugin defaults applied and secrets resolved", async () => {
    const files = { "/srv/p/chat.pipeline.json": text, "/srv/p/secrets/greeting.txt": "hello-from-file\n" };
    const { pipelines, problems } = await load(files, ["/srv/p/chat.pipeline.json"], { FAKE_KEY: "sk-test-123456" });
    expect(problems).toEqual([]);
    expect(pipelines).toHaveLength(1);
    const p = pipelines[0]!;
    expect(p.file).toBe("/srv/p/chat.pipeline.json");
    expect(p.dir).toBe("/srv/p");
    expect(p.routes).toEqual([
      { method: "POST", path: "/v1/chat/completions", format: "fake-chat", endpoint: "generate", jsonBody: true },
      { method: "GET", path: "/v1/models", format: "fake-chat", endpoint: "models", jsonBody: false },
    ]);
    expect(p.formats).toBe(registry.formats);

    expect(p.backends).toHaveLength(1);
    expect(p.backends[0]).toMatchObject({ id: "fake", use: "provider-fake", plugin: providerFake, models: ["*"], modelMap: {} });
    expect(p.backends[0]!.config).toEqual({ baseUrl: "http://127.0.0.1:9", apiKey: "Bearer sk-test-123456" });

    expect(p.steps.map((s) => [s.id, s.use, s.onError])).toEqual([
      ["step-echo", "step-echo", "fail"],
      ["echo-2", "step-echo", "continue"],
      ["echo-3", "step-echo", "fail"],
      ["list-models", "list-models", "fail"],
    ]);
    expect(p.steps[0]!.config).toEqual({ greeting: "hi", limits: { perMinute: 60 } });
    expect(p.steps[1]!.config).toEqual({ greeting: "hello-from-file", limits: { perMinute: 60 } });
    // `$${` is the escape for a literal `${`, and a lone `$` is just text.
    expect(p.steps[2]!.config).toMatchObject({ greeting: "costs ${env:PRICE} and $5" });
    expect(p.steps[0]!.when?.(createTestExchange({ model: "gpt-4o" }))).toBe(true);
    expect(p.steps[0]!.when?.(createTestExchange({ model: "claude-3" }))).toBe(false);
    expect(p.steps[1]!.when).toBeUndefined();

    expect(p.spec.limits).toEqual({ maxBodyBytes: 4194304, replayBodyBytes: 65536 });
    expect(p.spec.attempts).toEqual({ maxAttempts: 3, on: ["connect", "timeout", 429, "5xx"], backoffMs: 200, maxBackoffMs: 5000, maxRetryAfterMs: 30000 });
    expect(p.spec.timeouts).toEqual({ firstByteMs: 120000, idleMs: 120000, totalMs: 600000 });
    expect(p.spec.steps[0]!.config).toEqual({ greeting: "hi", limits: { perMinute: 60 } });
    // Resolved values are registered so logs scrub them.
    expect(redactSecrets("key=sk-test-123456 greeting=hello-from-file")).toBe("key=[redacted] greeting=[redacted]");
  });

  it("marks a usage route as admin and for operators (the admin listener's), derived from its endpoint", async () => {
    const file = `{ "id": "ops", "steps": [{ "use": "usage-api" }], "routes": [
      { "method": "GET", "path": "/admin/usage", "format": "fake-chat", "endpoint": "usage" },
      { "path": "/v1/chat/completions", "format": "fake-chat" } ] }`;
    const { pipelines, problems } = await load({ "/srv/ops.pipeline.json": file });
    expect(problems).toEqual([]);
    expect(pipelines[0]!.routes).toStrictEqual([
      { method: "GET", path: "/admin/usage", format: "fake-chat", endpoint: "usage", jsonBody: false, admin: true, operator: true },
      { method: "POST", path: "/v1/chat/completions", format: "fake-chat", endpoint: "generate", jsonBody: true },
    ]);
  });

  it("refuses a route whose endpoint no step of its pipeline answers, at the endpoint's file:line:col, naming the step to add", async () => {
    const file = `{ "id": "ops", "steps": [], "routes": [
      { "method": "GET", "path": "/admin/usage", "format": "fake-chat", "endpoint": "usage" } ] }`;
    const { pipelines, problems } = await load({ "/srv/ops.pipeline.json": file });
    expect(pipelines).toEqual([]);
    expect(show(problems)).toEqual([`/srv/ops.pipeline.json:${at(file, '"usage"')}: no step of this pipeline answers endpoint "usage"; add a step that does: { "use": "usage-api" }`]);
  });

  it("expands a folder to its *.pipeline.json files, sorted and not recursive", async () => {
    const b = pipeline("").replace('"chat"', '"b"').replace("/v1/chat/completions", "/b");
    const a = pipeline("").replace('"chat"', '"a"').replace("/v1/chat/completions", "/a");
    const files = { "/p/b.pipeline.json": b, "/p/a.pipeline.json": a, "/p/notes.json": "not json", "/p/sub/c.pipeline.json": "not json" };
    const { pipelines, problems } = await load(files, ["/p"]);
    expect(problems).toEqual([]);
    expect(pipelines.map((p) => p.spec.id)).toEqual(["a", "b"]);
  });

  it("loads a file named both directly and through its folder once", async () => {
    const { pipelines, problems } = await load({ "/p/a.pipeline.json": pipeline("") }, ["/p/a.pipeline.json", "/p", "/p/../p/a.pipeline.json"]);
    expect(problems).toEqual([]);
    expect(pipelines).toHaveLength(1);
  });

  it("reports a path that does not exist and a folder without pipeline files", async () => {
    const { problems } = await load({ "/p/readme.md": "hi" }, ["/nowhere.pipeline.json", "/p"]);
    expect(show(problems)).toEqual(["/nowhere.pipeline.json:1:1: no such file or directory", "/p:1:1: no *.pipeline.json files in this folder"]);
  });

  it("loads an external plugin named by a ./ path relative to the pipeline file", async () => {
    const dir = fileURLToPath(new URL("../fixtures/plugins/external/", import.meta.url));
    const file = `${dir}own.pipeline.json`;
    const text = pipeline(`    { "use": "./my-step.ts", "config": { "label": "mine" } },\n    { "use": "./my-step.ts", "id": "again", "config": {} }`);
    const { pipelines, problems } = await load({ [file]: text });
    expect(show(problems)).toEqual([`${file}:${at(text, "{}")}: my-step config: missing required property "label"`]);
    expect(pipelines).toEqual([]);
    const ok = await load({ [file]: pipeline(`    { "use": "./my-step.ts", "config": { "label": "mine" } }`) });
    expect(ok.problems).toEqual([]);
    expect(ok.pipelines[0]!.steps[0]).toMatchObject({ id: "./my-step.ts", config: { label: "mine" } });
    expect(ok.pipelines[0]!.steps[0]!.plugin.name).toBe("my-step");
  });
});

describe("syntax errors", () => {
  it("a missing comma is reported at its line and column", async () => {
    const text = `{
  "id": "chat",
  "routes": [
    { "path": "/a" "format": "fake-chat" }
  ]
}`;
    const { problems, pipelines } = await load({ "/p/x.pipeline.json": text });
    expect(pipelines).toEqual([]);
    expect(show(problems)).toEqual(['/p/x.pipeline.json:4:20: expected ","']);
  });

  it("comments and trailing commas are refused, the comma located", async () => {
    const text = `{
  // the chat pipeline
  "id": "chat",
  "steps": [],
}`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual(["/p/x.pipeline.json:2:3: comments are not allowed in pipeline files", "/p/x.pipeline.json:4:14: trailing comma is not allowed"]);
  });

  it("an empty file and a top-level array are problems", async () => {
    const { problems } = await load({ "/p/a.pipeline.json": "", "/p/b.pipeline.json": "[]" });
    expect(show(problems)).toEqual(["/p/a.pipeline.json:1:1: file is empty; expected a pipeline object", "/p/b.pipeline.json:1:1: a pipeline file must hold a JSON object"]);
  });
});

describe("schema errors", () => {
  it("an unknown property is reported at its key", async () => {
    const text = pipeline(`    { "use": "step-echo", "onErorr": "continue" }`, `\n  "bogus": 1,`);
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([
      `/p/x.pipeline.json:${at(text, '"bogus"')}: unknown property "bogus"`,
      `/p/x.pipeline.json:${at(text, '"onErorr"')}: unknown property "onErorr"`,
    ]);
    expect(at(text, '"bogus"')).toBe("3:3");
  });

  it("a wrong type, a missing required property and a bad enum are each located", async () => {
    const text = `{
  "id": 5,
  "routes": [
    { "path": "/a" },
    { "method": "GOT", "path": "/b", "format": "fake-chat" }
  ],
  "steps": []
}`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([
      "/p/x.pipeline.json:2:9: must be string",
      '/p/x.pipeline.json:4:5: missing required property "format"',
      '/p/x.pipeline.json:5:17: must be one of "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"',
    ]);
  });

  it("a missing top-level property points at the file's object", async () => {
    const { problems } = await load({ "/p/x.pipeline.json": `{ "id": "x", "steps": [] }` });
    expect(show(problems)).toEqual(['/p/x.pipeline.json:1:1: missing required property "routes"']);
  });

  it("a bad step config is located at the nested node inside config", async () => {
    const text = pipeline(`    { "use": "step-echo", "config": { "greting": "yo", "limits": { "perMinute": 0 } } }`);
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([
      `/p/x.pipeline.json:${at(text, '"greting"')}: step-echo config: unknown property "greting"`,
      `/p/x.pipeline.json:${at(text, "0 }")}: step-echo config: must be >= 1`,
    ]);
  });

  it("a provider config missing a required setting points at the nearest node written", async () => {
    const text = `{
  "id": "chat",
  "routes": [{ "path": "/a", "format": "fake-chat" }],
  "backends": { "fake": { "use": "provider-fake" } },
  "steps": []
}`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual(['/p/x.pipeline.json:4:25: provider-fake config: missing required property "baseUrl"']);
  });

  it("a bad backend id is reported at its key, a bad fallback rule as one sentence", async () => {
    const text = `{
  "id": "chat",
  "routes": [{ "path": "/a", "format": "fake-chat" }],
  "backends": { "-fake": { "use": "provider-fake", "config": { "baseUrl": "http://x" } } },
  "attempts": { "on": ["connect", "6xx", 429] },
  "steps": []
}`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([
      '/p/x.pipeline.json:4:17: invalid name "-fake": must match pattern "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"',
      `/p/x.pipeline.json:${at(text, '"6xx"')}: must be one of "connect", "timeout", "4xx", "5xx", or an integer from 400 to 599`,
    ]);
  });

  it("a property written twice is reported at the second key", async () => {
    const text = `{ "id": "a", "id": "b", "routes": [{ "path": "/a", "format": "fake-chat" }], "steps": [] }`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual(['/p/x.pipeline.json:1:14: duplicate property "id"']);
  });
});

describe("secrets", () => {
  const text = `{
  "id": "chat",
  "routes": [{ "path": "/a", "format": "fake-chat" }],
  "backends": {
    "fake": { "use": "provider-fake", "config": { "baseUrl": "\${env:FAKE_URL}", "apiKey": "\${env:FAKE_KEY}" } }
  },
  "steps": [{ "use": "step-echo", "config": { "greeting": "\${file:./missing.txt}" } }]
}`;

  it("a missing variable or file is a problem at the string, naming it and never a value", async () => {
    const { problems, pipelines } = await load({ "/p/x.pipeline.json": text }, undefined, { FAKE_URL: "http://internal-host:9999" });
    expect(pipelines).toEqual([]);
    expect(show(problems)).toEqual([
      `/p/x.pipeline.json:${at(text, '"${env:FAKE_KEY}"')}: environment variable FAKE_KEY is not set`,
      `/p/x.pipeline.json:${at(text, '"${file:')}: cannot read secret file ./missing.txt (ENOENT)`,
    ]);
    expect(JSON.stringify(problems)).not.toContain("internal-host");
  });

  it("an unknown reference kind and an unterminated reference are problems", async () => {
    const bad = pipeline(`    { "use": "step-echo", "config": { "greeting": "\${ENV:KEY}" } },\n    { "use": "step-echo", "id": "b", "config": { "greeting": "\${env:KEY" } }`);
    const { problems } = await load({ "/p/x.pipeline.json": bad }, undefined, { KEY: "v" });
    expect(problems.map((p) => p.message)).toEqual([
      'unknown reference "${ENV:…}": use ${env:NAME} or ${file:path}, or $${ for a literal "${"',
      'unterminated "${": write ${env:NAME} or ${file:path}, or $${ for a literal "${"',
    ]);
  });

  it("a problem message that would echo a resolved secret is scrubbed", async () => {
    // The secret makes the id invalid; the pattern message does not echo it, but names it nowhere either way.
    const bad = `{ "id": "\${env:ID}", "routes": [{ "path": "/a", "format": "fake-chat" }], "steps": [] }`;
    const { problems } = await load({ "/p/x.pipeline.json": bad }, undefined, { ID: "Secret-Value-42" });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/^must match pattern/);
    expect(JSON.stringify(problems)).not.toContain("Secret-Value-42");
  });
});

describe("conditions", () => {
  it("compiles the file's named matchers, and locates a mistake inside one", async () => {
    const good = pipeline(`    { "use": "step-echo" }`, `
  "matchers": { "code": { "header": { "name": "x-task", "equals": "code" } }, "big": { "model": "gpt-4*" } },`);
    const { pipelines, problems } = await load({ "/p/x.pipeline.json": good });
    expect(problems).toEqual([]);
    const matchers = pipelines[0]!.matchers;
    expect([...matchers.keys()]).toEqual(["code", "big"]);
    expect(matchers.get("code")!(createTestExchange({ headers: { "x-task": "code" } }))).toBe(true);
    expect(matchers.get("code")!(createTestExchange({ headers: { "x-task": "chat" } }))).toBe(false);
    expect(matchers.get("big")!(createTestExchange({ model: "gpt-4o" }))).toBe(true);

    const bad = pipeline(`    { "use": "step-echo" }`, `
  "matchers": { "code": { "tenant": { "regex": "(" } }, "bad name": { "model": "x" } },`);
    const { problems: found } = await load({ "/p/x.pipeline.json": bad });
    expect(show(found).map((line) => line.replace(/: .*/, "")).sort()).toEqual([`/p/x.pipeline.json:${at(bad, '"bad name"')}`, `/p/x.pipeline.json:${at(bad, '"("')}`].sort());
  });

  it("a bad regex is located at the regex", async () => {
    const text = pipeline(`    { "use": "step-echo", "when": { "any": [{ "model": "gpt-*" }, { "model": { "regex": "([a-z" } }] } }`);
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(problems).toHaveLength(1);
    expect(`${problems[0]!.line}:${problems[0]!.col}`).toBe(at(text, '"([a-z"'));
    expect(problems[0]!.message).toMatch(/^invalid regular expression: /);
  });

  it("an unknown matcher is one clear problem at its key, not one per schema branch", async () => {
    const text = pipeline(`    { "use": "step-echo", "when": { "all": [{ "model": "gpt-*" }, { "modle": "x" }] } }`);
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([
      `/p/x.pipeline.json:${at(text, '"modle"')}: unknown condition "modle"; expected one of all, any, not, model, path, method, tenant, header, body`,
    ]);
  });

  it("mistakes inside header, body and string matchers are located precisely", async () => {
    const text = pipeline(
      `    { "use": "step-echo", "when": { "any": [
      { "header": { "equals": "free" } },
      { "body": { "pointer": "/tier", "gt": "5" } },
      { "model": { "startsWith": "gpt" } },
      { "path": 7 },
      { "model": "a", "path": "/b" }
    ] } }`,
    );
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([
      `/p/x.pipeline.json:${at(text, '{ "equals"')}: missing required property "name"`,
      `/p/x.pipeline.json:${at(text, '"5"')}: must be number`,
      `/p/x.pipeline.json:${at(text, '"startsWith"')}: unknown property "startsWith"`,
      `/p/x.pipeline.json:${at(text, "7 }")}: "path" must be a string (a glob) or an object with equals, in, glob, prefix, regex, exists`,
      `/p/x.pipeline.json:${at(text, '{ "model": "a"')}: a condition holds exactly one of all, any, not, model, path, method, tenant, header, body, found "model" and "path": combine them with "all" or "any"`,
    ]);
  });
});

describe("plugins", () => {
  it("an unknown plugin is located at use and lists the known plugins of that kind", async () => {
    const text = `{
  "id": "chat",
  "routes": [{ "path": "/a", "format": "fake-chat" }],
  "backends": { "b": { "use": "provider-nope" } },
  "steps": [{ "use": "step-nope" }]
}`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([
      `/p/x.pipeline.json:${at(text, '"provider-nope"')}: unknown provider plugin "provider-nope"; known provider plugins: provider-fake`,
      `/p/x.pipeline.json:${at(text, '"step-nope"')}: unknown step plugin "step-nope"; known step plugins: list-models, step-echo, usage-api`,
    ]);
  });

  it("a plugin of the wrong kind is a problem", async () => {
    const text = `{
  "id": "chat",
  "routes": [{ "path": "/a", "format": "fake-chat" }],
  "backends": { "b": { "use": "step-echo" } },
  "steps": [{ "use": "provider-fake" }, { "use": "format-fake" }]
}`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(problems.map((p) => p.message)).toEqual([
      '"step-echo" is a step plugin; a backend needs a provider plugin',
      '"provider-fake" is a provider plugin; a step needs a step plugin',
      '"format-fake" is a format plugin; a step needs a step plugin',
    ]);
  });

  it("an external plugin path that does not exist is located at use", async () => {
    const text = pipeline(`    { "use": "./nowhere.js" }`);
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([`/p/x.pipeline.json:${at(text, '"./nowhere.js"')}: plugin "./nowhere.js": no such file or folder`]);
  });

  it("an unknown route format lists the known formats", async () => {
    const text = `{ "id": "chat", "routes": [{ "path": "/a", "format": "openai-chat" }], "steps": [] }`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([`/p/x.pipeline.json:${at(text, '"openai-chat"')}: unknown format "openai-chat"; known formats: fake-chat`]);
  });
});

describe("deep nesting", () => {
  it("a file nested thousands of levels deep is one problem at the first bracket too deep, not a stack overflow", async () => {
    const text = `{ "id": "deep", "routes": [], "steps": [], "x": ${"[".repeat(5000)}${"]".repeat(5000)} }`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([`/p/x.pipeline.json:1:${text.indexOf("[[[") + 64}: nested deeper than 64 levels; no pipeline file needs that many`]);
  });

  it("brackets inside strings do not count as nesting", async () => {
    const text = `{ "id": "deep", "description": "${"[".repeat(100)}\\"", "routes": [], "steps": [] }`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems).filter((p) => p.includes("nested"))).toEqual([]);
  });
});

describe("duplicates", () => {
  it("a step id used twice is reported at the second step", async () => {
    const text = pipeline(`    { "use": "step-echo" },\n    { "use": "step-echo", "id": "two" },\n    { "use": "step-echo" }`);
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual([
      `/p/x.pipeline.json:${at(text, '"step-echo"', 2)}: duplicate step id "step-echo" (step 1 has it too); give one of them its own "id"`,
    ]);
  });

  it("a route claimed twice in one file, or with another parameter name, is reported at the second", async () => {
    const text = `{
  "id": "chat",
  "routes": [
    { "path": "/v1/models/:model", "format": "fake-chat" },
    { "method": "POST", "path": "/v1/models/:name", "format": "fake-chat" },
    { "method": "GET", "path": "/v1/models/:model", "format": "fake-chat" }
  ],
  "steps": []
}`;
    const { problems } = await load({ "/p/x.pipeline.json": text });
    expect(show(problems)).toEqual(["/p/x.pipeline.json:5:33: route POST /v1/models/:name is already claimed at /p/x.pipeline.json:4:15"]);
  });

  it("routes differing only in case or a trailing slash clash across files, as the router takes both alike", async () => {
    const first = `{ "id": "one", "routes": [{ "path": "/v1/chat/completions", "format": "fake-chat" }], "steps": [] }`;
    const second = `{ "id": "two", "routes": [{ "path": "/V1/Chat/Completions/", "format": "fake-chat" }], "steps": [] }`;
    const { problems } = await load({ "/p/1.pipeline.json": first, "/p/2.pipeline.json": second }, ["/p"]);
    expect(show(problems)).toEqual([
      `/p/2.pipeline.json:${at(second, '"/V1/Chat/Completions/"')}: route POST /V1/Chat/Completions/ is already claimed at /p/1.pipeline.json:${at(first, '"/v1/chat/completions"')}`,
    ]);
  });

  it("a route and a pipeline id claimed by two files are reported in the second file; the first still loads", async () => {
    const first = `{ "id": "chat", "routes": [{ "path": "/a", "format": "fake-chat" }], "steps": [] }`;
    const second = `{ "id": "chat", "routes": [{ "path": "/b", "format": "fake-chat" }, { "path": "/a", "format": "fake-chat" }], "steps": [] }`;
    const { problems, pipelines } = await load({ "/p/1.pipeline.json": first, "/p/2.pipeline.json": second }, ["/p"]);
    expect(show(problems)).toEqual([
      '/p/2.pipeline.json:1:9: pipeline id "chat" is already used at /p/1.pipeline.json:1:9',
      `/p/2.pipeline.json:${at(second, '"/a"')}: route POST /a is already claimed at /p/1.pipeline.json:${at(first, '"/a"')}`,
    ]);
    expect(pipelines.map((p) => p.file)).toEqual(["/p/1.pipeline.json"]);
  });
});

describe("collecting problems", () => {
  it("reports every problem of every file together, in file order then position", async () => {
    const a = `{
  "id": "a",
  "routes": [{ "path": "/a", "format": "fake-chat", "verb": "GET" }],
  "steps": [{ "use": "step-nope" }, { "use": "step-echo", "config": { "limits": { "perMinute": "many" } } }]
}`;
    const b = `{ "id": "b", "routes": [{ "path": "/b", "format": "fake-chat" }], "steps": [{ "use": "step-echo", "when": { "tenant": { "regex": "(" } } }] }`;
    const c = `{ "id": "c", "routes": [{ "path": "/c", "format": "fake-chat" }], "steps": [] }`;
    const { problems, pipelines } = await load({ "/p/a.pipeline.json": a, "/p/b.pipeline.json": b, "/p/c.pipeline.json": c, "/p/d.pipeline.json": "{" }, ["/p"]);
    expect(problems.map((p) => `${p.file}:${p.line}:${p.col}`)).toEqual([
      `/p/a.pipeline.json:${at(a, '"verb"')}`,
      `/p/a.pipeline.json:${at(a, '"step-nope"')}`,
      `/p/a.pipeline.json:${at(a, '"many"')}`,
      `/p/b.pipeline.json:${at(b, '"("')}`,
      "/p/d.pipeline.json:1:2",
    ]);
    expect(pipelines.map((p) => p.spec.id)).toEqual(["c"]);
  });
});
