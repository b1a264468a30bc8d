import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../support/cli-process.js";

const root = join(import.meta.dirname, "..", "..");

describe("switchyard check", () => {
  it("passes the shipped pipelines", async () => {
    const r = await run(["check", "pipelines"], root);
    expect(r.stdout).toContain("ok: pipelines");
    expect(r.code).toBe(0);
  });

  it("prints every problem of a broken file as file:line:col: message and exits 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-check-"));
    const file = join(dir, "broken.pipeline.json");
    await writeFile(file, [
      "{",
      '  "id": "broken",',
      '  "routes": [{ "path": "/v1/chat/completions", "format": "openai-chat", "verb": "POST" }],',
      '  "backends": { "m": { "use": "provider-mock", "config": { "chunks": "many" } } },',
      '  "steps": [',
      '    { "use": "stream-sse", "config": { "idleTimeoutMs": -1 } },',
      '    { "use": "no-such-plugin" }',
      "  ]",
      "}",
    ].join("\n"));
    const r = await run(["check", file], dir);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^broken\.pipeline\.json:3:\d+: .*verb/),
      expect.stringMatching(/^broken\.pipeline\.json:4:\d+: .*chunks|^broken\.pipeline\.json:4:\d+: .*integer/),
      expect.stringMatching(/^broken\.pipeline\.json:6:\d+: .*/),
      expect.stringMatching(/^broken\.pipeline\.json:7:\d+: .*no-such-plugin/),
    ]));
  });

  it("names a missing secret without printing any value", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-check-"));
    await writeFile(join(dir, "s.pipeline.json"), JSON.stringify({
      id: "s",
      routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
      backends: { o: { use: "provider-openai", config: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "${env:SWITCHYARD_TEST_SURELY_UNSET}" } } },
      steps: [],
    }, null, 2));
    const r = await run(["check", "s.pipeline.json"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^s\.pipeline\.json:\d+:\d+: .*SWITCHYARD_TEST_SURELY_UNSET/m);
  });
});
