import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import authApiKey from "../../../plugins/auth-api-key/index.js";
import { createKeysCommand } from "../../../plugins/auth-api-key/keys-command.js";
import { startGateway, type TestGateway } from "../../support/gateway.js";

const NOW = Date.parse("2026-06-15T12:00:00Z");
const sha = (key: string) => `sha256:${createHash("sha256").update(key).digest("hex")}`;
const existing = {
  $schema: "../plugins/auth-api-key/keys.schema.json",
  keys: [
    { id: "ci", hash: sha("sk-ci-key"), tenant: "acme", description: "the CI runner" },
    { id: "old", hash: sha("sk-old-key"), tenant: "acme", expiresAt: "2020-01-01T00:00:00Z" },
  ],
};

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "keys-cmd-"));
  file = join(dir, "keys.json");
  await writeFile(file, JSON.stringify(existing, null, 2), { mode: 0o600 });
});

/** Runs `switchyard keys ...args` against the temp file, capturing what it prints. */
async function keys(...args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const command = createKeysCommand({ stdout: { write: (t: string) => stdout.push(t) }, stderr: { write: (t: string) => stderr.push(t) } }, () => NOW);
  const code = await command.run([...args, "--file", file]);
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
}

const readKeys = async () => JSON.parse(await readFile(file, "utf8")) as typeof existing;

describe("switchyard keys add", () => {
  it("prints a fresh strong key once on stdout and stores only its sha256, keeping the other entries", async () => {
    const { code, stdout, stderr } = await keys("add", "--id", "app", "--tenant", "globex");
    expect(code).toBe(0);
    const lines = stdout.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    const key = lines[0]!;
    // sk-sy- and 32 random bytes in base64url.
    expect(key).toMatch(/^sk-sy-[A-Za-z0-9_-]{43}$/);
    expect(stderr).toContain('added key "app" (tenant globex, role client)');
    expect(stderr).not.toContain(key);

    const text = await readFile(file, "utf8");
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice("sk-sy-".length));
    const doc = await readKeys();
    expect(doc.$schema).toBe(existing.$schema);
    expect(doc.keys.slice(0, 2)).toEqual(existing.keys);
    expect(doc.keys[2]).toEqual({ id: "app", hash: sha(key), tenant: "globex" });
    // Written by rename from a temp file that keeps the old file's mode, and nothing is left behind.
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["keys.json"]);

    const again = await keys("add", "--id", "app2", "--tenant", "globex");
    expect(again.stdout.trim()).not.toBe(key);
  });

  it("stores role, models, pipelines, expiry and description when given", async () => {
    const { code, stdout } = await keys(
      "add", "--id", "ops", "--tenant", "ops", "--role", "admin", "--models", "gpt-4o*, mock-*", "--pipelines", "chat,batch",
      "--expires", "2027-01-31", "--description", "dashboard",
    );
    expect(code).toBe(0);
    expect((await readKeys()).keys[2]).toEqual({
      id: "ops", hash: sha(stdout.trim()), tenant: "ops", role: "admin", models: ["gpt-4o*", "mock-*"], pipelines: ["chat", "batch"],
      expiresAt: "2027-01-31T00:00:00.000Z", description: "dashboard",
    });
  });

  it("starts the file when it does not exist yet", async () => {
    file = join(dir, "new-keys.json");
    const { code, stdout } = await keys("add", "--id", "first", "--tenant", "t");
    expect(code).toBe(0);
    expect(await readKeys()).toEqual({ keys: [{ id: "first", hash: sha(stdout.trim()), tenant: "t" }] });
  });

  it.each([
    [["--tenant", "t"], "--id is required"],
    [["--id", "x"], "--tenant is required"],
    [["--id", "ci", "--tenant", "t"], 'already has a key with id "ci"'],
    [["--id", "x", "--tenant", "t", "--role", "root"], '--role must be client or admin, not "root"'],
    [["--id", "x", "--tenant", "t", "--models", "a,,b"], "--models must be a comma-separated list without empty items"],
    [["--id", "x", "--tenant", "t", "--expires", "next week"], '--expires must be an ISO 8601 time such as 2027-01-31 or 2027-01-31T00:00:00Z, not "next week"'],
    [["--id", "x", "--tenant", "t", "--expires", "2026-01-01"], "--expires 2026-01-01 is not in the future"],
    [["--id", "x", "--tenant", "t", "--colour", "red"], "Unknown option '--colour'"],
  ])("refuses %j without printing a key or touching the file", async (args, message) => {
    const before = await readFile(file, "utf8");
    const { code, stdout, stderr } = await keys("add", ...args);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(message);
    expect(await readFile(file, "utf8")).toBe(before);
  });

  it("refuses to rewrite a keys file that is already invalid", async () => {
    await writeFile(file, JSON.stringify({ keys: [{ id: "x", hash: "md5:1", tenant: "t" }] }));
    const { code, stdout, stderr } = await keys("add", "--id", "y", "--tenant", "t");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("/keys/0/hash must be sha256:<64 hex digits>; fix the file first, nothing was changed");
  });
});

describe("switchyard keys list", () => {
  it("shows ids, tenants, roles, status, models and pipelines, never hashes", async () => {
    await keys("add", "--id", "ops", "--tenant", "ops", "--role", "admin", "--pipelines", "chat", "--expires", "2027-01-31T00:00:00Z");
    await keys("disable", "ci");
    const { code, stdout } = await keys("list");
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        "ID   TENANT  ROLE    STATUS                                 MODELS  PIPELINES",
        "ci   acme    client  disabled                               *       *",
        "old  acme    client  expired 2020-01-01T00:00:00Z           *       *",
        "ops  ops     admin   active until 2027-01-31T00:00:00.000Z  *       chat",
        "",
      ].join("\n"),
    );
    expect(stdout).not.toContain("sha256");
  });

  it("prints JSON with --json, without hashes", async () => {
    const { stdout } = await keys("list", "--json");
    expect(JSON.parse(stdout)).toEqual([
      { id: "ci", tenant: "acme", role: "client", status: "active", models: null, pipelines: null, description: "the CI runner" },
      { id: "old", tenant: "acme", role: "client", status: "expired 2020-01-01T00:00:00Z", expiresAt: "2020-01-01T00:00:00Z", models: null, pipelines: null },
    ]);
    expect(stdout).not.toContain("sha256");
  });

  it("fails with the path when the file is missing", async () => {
    file = join(dir, "missing.json");
    const { code, stderr } = await keys("list");
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot read ${file} (no such file)`);
  });
});

describe("switchyard keys disable", () => {
  it("marks the key disabled, keeps its entry, and says when it already was", async () => {
    expect((await keys("disable", "ci")).code).toBe(0);
    const doc = await readKeys();
    expect(doc.keys[0]).toEqual({ ...existing.keys[0], disabled: true });
    expect(doc.keys[1]).toEqual(existing.keys[1]);
    const again = await keys("disable", "ci");
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('key "ci" in');
    expect(again.stderr).toContain("is already disabled");
  });

  it("fails naming the known ids for an unknown id, and wants exactly one id", async () => {
    const unknown = await keys("disable", "nobody");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('has no key with id "nobody" (known: ci, old)');
    expect((await keys("disable")).stderr).toContain("usage: switchyard keys disable ID");
  });

  it("fails on an unknown action with the usage", async () => {
    const { code, stderr } = await keys("rotate");
    expect(code).toBe(1);
    expect(stderr).toContain('unknown action "rotate"');
    expect(stderr).toContain("keys add --id ID --tenant T");
  });
});

describe("keys command with a running gateway", () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it("is the auth-api-key plugin's keys command, and a key it adds authenticates until it is disabled", async () => {
    expect(authApiKey.commands?.keys?.description).toContain("keys add --id ID --tenant T");
    gw = await startGateway({
      "keys.json": existing,
      "chat.pipeline.json": {
        id: "chat",
        routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
        backends: { mock: { use: "provider-mock", models: ["mock-*"] } },
        steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json", reloadIntervalMs: 20 } }, { use: "translate" }],
      },
    });
    file = join(gw.dir, "keys.json");
    const ask = (key: string) =>
      fetch(`${gw!.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "mock-1", messages: [{ role: "user", content: "hi" }] }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code?: string } } }));

    const { stdout } = await keys("add", "--id", "fresh", "--tenant", "globex");
    const key = stdout.trim();
    await vi.waitFor(async () => expect((await ask(key)).status).toBe(200), { timeout: 5000, interval: 25 });

    await keys("disable", "fresh");
    await vi.waitFor(async () => expect((await ask(key)).body.error?.code).toBe("key_disabled"), { timeout: 5000, interval: 25 });
  });
});
