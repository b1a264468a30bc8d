import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../support/cli-process.js";

describe("switchyard check and when regexes", () => {
  it("refuses a super-linear when.header.regex at its file:line:col, and accepts a plain one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-check-"));
    const pipeline = (regex: string) => JSON.stringify({
      id: "r",
      routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
      backends: { m: { use: "provider-mock", config: {} } },
      steps: [{ use: "validate", when: { header: { name: "x-tier", regex } } }],
    }, null, 2);
    await writeFile(join(dir, "slow.pipeline.json"), pipeline("^(a+)+$"));
    const r = await run(["check", "slow.pipeline.json"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^slow\.pipeline\.json:\d+:\d+: .*regular expression refused: a repeated group/m);

    await writeFile(join(dir, "plain.pipeline.json"), pipeline("^free-\\d+$"));
    const ok = await run(["check", "plain.pipeline.json"], dir);
    expect(ok.stdout).toContain("ok: plain.pipeline.json");
    expect(ok.code).toBe(0);
  });
});
