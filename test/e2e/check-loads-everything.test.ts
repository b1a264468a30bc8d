/**
 * `switchyard check` loads everything `serve` loads: a keys file or pricing file that serve would
 * refuse is a problem at the step's config, and a wrong `store` is explained in words an operator
 * can act on.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../support/cli-process.js";

async function checkWith(files: Record<string, string>, pipeline: Record<string, unknown>): Promise<{ code: number | null; stdout: string }> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-check-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  await writeFile(join(dir, "p.pipeline.json"), JSON.stringify({
    id: "p",
    routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
    backends: { m: { use: "provider-mock", config: {} } },
    steps: [],
    ...pipeline,
  }, null, 2));
  return run(["check", "p.pipeline.json"], dir);
}

const authStep = { steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }] };
const GOOD_HASH = `sha256:${"a".repeat(64)}`;

describe("switchyard check loads what serve loads", () => {
  it.each([
    ["a missing keys file", {}, /keys file .*keys\.json: cannot read it \(no such file\)/],
    ["a corrupt keys file", { "keys.json": '{ "keys": [ ' }, /keys file .*keys\.json/],
    ["a keys file with a bad hash", { "keys.json": JSON.stringify({ keys: [{ id: "a", tenant: "t", hash: "sha256:not-hex" }] }) }, /keys file .*keys\.json: .*hash/],
  ])("refuses %s at the auth step's config", async (_name, files, message) => {
    const r = await checkWith(files, authStep);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^p\\.pipeline\\.json:\\d+:\\d+: ${message.source}`, "m"));
  });

  it("passes a good keys file", async () => {
    const r = await checkWith({ "keys.json": JSON.stringify({ keys: [{ id: "a", tenant: "t", hash: GOOD_HASH }] }) }, authStep);
    expect(r.stdout).toContain("ok: p.pipeline.json");
    expect(r.code).toBe(0);
  });

  it.each(["cost", "select-cost"])("refuses a missing or invalid pricing file of %s", async (use) => {
    const steps = { steps: [{ use, config: { pricingFile: "./pricing.json" } }] };
    const missing = await checkWith({}, steps);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^p\.pipeline\.json:\d+:\d+: pricing file .*pricing\.json: cannot read it/m);
    const invalid = await checkWith({ "pricing.json": JSON.stringify({ currency: "USD", models: {} }) }, steps);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/^p\.pipeline\.json:\d+:\d+: pricing file .*updated/m);
  });

  it.each([
    ["a string", "redis", /must be an object whose "kind" is "memory" or "redis"/],
    ["an unknown kind", { kind: "memcached" }, /unknown "kind" "memcached": expected "memory" or "redis"/],
    ["redis without a url", { kind: "redis" }, /missing required property "url"/],
  ])("explains a wrong store (%s) in words an operator can act on", async (_name, store, message) => {
    const r = await checkWith({}, { store });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^p\\.pipeline\\.json:\\d+:\\d+: .*${message.source}`, "m"));
    expect(r.stdout).not.toContain("or an object");
  });
});
