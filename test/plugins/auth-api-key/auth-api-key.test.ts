import { createHash } from "node:crypto";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GatewayError, type StepInstance } from "../../../core/index.js";
import { createTestExchange, createTestStep } from "../../../testkit/index.js";
import authApiKey from "../../../plugins/auth-api-key/index.js";
import { captureLog } from "../record-jsonl/capture-log.js";

const KEY_A = "sk-test-alpha-0123456789";
const KEY_B = "sk-test-bravo-9876543210";
const KEY_OFF = "sk-test-disabled";
const KEY_OLD = "sk-test-expired";
const KEY_MINI = "sk-test-mini-only";
const hash = (key: string) => `sha256:${createHash("sha256").update(key).digest("hex")}`;

const keysFile = (keys: unknown[]) => JSON.stringify({ keys });
const baseKeys = [
  { id: "alpha", hash: hash(KEY_A), tenant: "acme" },
  { id: "off", hash: hash(KEY_OFF), tenant: "acme", disabled: true },
  { id: "old", hash: hash(KEY_OLD), tenant: "acme", expiresAt: "2020-01-01T00:00:00Z" },
  { id: "mini", hash: hash(KEY_MINI).toUpperCase().replace("SHA256:", "sha256:"), tenant: "globex", models: ["gpt-4o-mini*", "mock-*"], expiresAt: "2999-01-01T00:00:00Z" },
];

let dir: string;
let instances: StepInstance[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "auth-"));
  await writeFile(join(dir, "keys.json"), keysFile(baseKeys));
});
afterEach(async () => {
  await Promise.all(instances.map((i) => i.close?.()));
  instances = [];
});

async function step(config: Record<string, unknown> = {}, env: Record<string, unknown> = {}) {
  const s = await createTestStep(authApiKey, { keysFile: "./keys.json", reloadIntervalMs: 0, ...config }, { baseDir: dir, ...env });
  instances.push(s.instance);
  return s;
}

async function auth(hooks: Awaited<ReturnType<typeof step>>["hooks"], headers: Record<string, string>, model = "gpt-4o") {
  const ex = createTestExchange({ headers, model });
  const reply = await hooks.auth.promise(ex);
  return { ex, reply: reply as GatewayError | undefined };
}

describe("auth-api-key", () => {
  it.each([
    ["Authorization: Bearer", { Authorization: `Bearer ${KEY_A}` }],
    ["lower-case bearer scheme", { authorization: `bearer ${KEY_A}` }],
    ["x-api-key (Anthropic SDK)", { "x-api-key": KEY_A }],
    ["x-goog-api-key (Gemini SDK)", { "x-goog-api-key": KEY_A }],
  ])("accepts the right key via %s and sets tenant and keyId", async (_name, headers) => {
    const { hooks } = await step();
    const { ex, reply } = await auth(hooks, headers);
    expect(reply).toBeUndefined();
    expect(ex.tenant).toBe("acme");
    expect(ex.keyId).toBe("alpha");
  });

  it("answers 401 missing_api_key when no header carries a key", async () => {
    const { hooks } = await step();
    for (const headers of [{}, { authorization: "Basic dXNlcjpwYXNz" }, { "x-api-key": "  " }] as Array<Record<string, string>>) {
      const { ex, reply } = await auth(hooks, headers);
      expect(reply).toBeInstanceOf(GatewayError);
      expect(reply).toMatchObject({ status: 401, type: "authentication", code: "missing_api_key" });
      expect(reply!.message).toContain("Authorization: Bearer <key>");
      expect(reply!.headers).toEqual({ "www-authenticate": "Bearer" });
      expect(ex.tenant).toBeUndefined();
    }
  });

  it("answers 401 invalid_api_key for a wrong key without echoing it", async () => {
    const { hooks } = await step();
    const wrong = "sk-test-wrong-key-xyz";
    const { ex, reply } = await auth(hooks, { authorization: `Bearer ${wrong}` });
    expect(reply).toMatchObject({ status: 401, type: "authentication", code: "invalid_api_key", message: "invalid API key" });
    expect(JSON.stringify({ ...reply, message: reply!.message })).not.toContain(wrong);
    expect(ex.tenant).toBeUndefined();
    expect(ex.keyId).toBeUndefined();
  });

  it("answers 401 key_disabled for a disabled key", async () => {
    const { hooks } = await step();
    const { ex, reply } = await auth(hooks, { "x-api-key": KEY_OFF });
    expect(reply).toMatchObject({ status: 401, type: "authentication", code: "key_disabled" });
    expect(ex.tenant).toBeUndefined();
  });

  it("answers 401 key_expired for a key past expiresAt", async () => {
    const { hooks } = await step();
    const { reply } = await auth(hooks, { "x-api-key": KEY_OLD });
    expect(reply).toMatchObject({ status: 401, type: "authentication", code: "key_expired" });
  });

  it("lets a model-restricted key use matching models and answers 403 model_not_allowed for others", async () => {
    const { hooks } = await step();
    expect((await auth(hooks, { "x-api-key": KEY_MINI }, "gpt-4o-mini-2024-07-18")).reply).toBeUndefined();
    expect((await auth(hooks, { "x-api-key": KEY_MINI }, "mock-fast")).reply).toBeUndefined();
    const { ex, reply } = await auth(hooks, { "x-api-key": KEY_MINI }, "gpt-4o");
    expect(reply).toMatchObject({ status: 403, type: "permission", code: "model_not_allowed", param: "model" });
    expect(reply!.message).toContain('"gpt-4o"');
    // The caller is known even though the model was refused: the record says whose request it was.
    expect(ex.tenant).toBe("globex");
    expect(ex.keyId).toBe("mini");
  });

  it("keeps a model-restricted key's * within one segment: mock-* does not allow mock-x/../other", async () => {
    const { hooks } = await step();
    expect((await auth(hooks, { "x-api-key": KEY_MINI }, "mock-x/../other")).reply).toMatchObject({ status: 403, code: "model_not_allowed" });
  });

  it("keeps admin keys off client routes (403) and marks each caller's role, which the core checks on admin routes", async () => {
    const KEY_ADMIN = "sk-test-admin-key";
    await writeFile(join(dir, "keys.json"), keysFile([...baseKeys, { id: "ops", hash: hash(KEY_ADMIN), tenant: "ops", role: "admin" }]));
    const { hooks } = await step();
    const usageRoute = { method: "GET", path: "/admin/usage", format: "openai-chat", endpoint: "usage", admin: true } as const;
    const onRoute = async (key: string, admin: boolean) => {
      const ex = createTestExchange({ headers: { "x-api-key": key }, ...(admin ? { route: usageRoute, model: undefined } : {}) });
      return { ex, reply: (await hooks.auth.promise(ex)) as GatewayError | undefined };
    };

    const adminOnAdmin = await onRoute(KEY_ADMIN, true);
    expect(adminOnAdmin.reply).toBeUndefined();
    expect(adminOnAdmin.ex).toMatchObject({ tenant: "ops", keyId: "ops", role: "admin" });

    const clientOnAdmin = await onRoute(KEY_A, true);
    expect(clientOnAdmin.reply).toBeUndefined();
    expect(clientOnAdmin.ex.role).toBe("client");

    const adminOnModels = await onRoute(KEY_ADMIN, false);
    expect(adminOnModels.reply).toMatchObject({ status: 403, type: "permission", code: "client_key_required" });
    expect(adminOnModels.reply!.message).toBe("admin API keys are accepted on admin routes only; use a client key for model requests");

    const clientOnModels = await onRoute(KEY_A, false);
    expect(clientOnModels.reply).toBeUndefined();
    expect(clientOnModels.ex.role).toBe("client");
  });

  it("answers 403 pipeline_not_allowed when the key is limited to other pipelines", async () => {
    await writeFile(join(dir, "keys.json"), keysFile([{ id: "chat-only", hash: hash(KEY_A), tenant: "acme", pipelines: ["chat", "batch"] }]));
    const { hooks } = await step();
    const onPipeline = async (pipelineId: string) => (await hooks.auth.promise(createTestExchange({ pipelineId, headers: { "x-api-key": KEY_A } }))) as GatewayError | undefined;
    expect(await onPipeline("chat")).toBeUndefined();
    expect(await onPipeline("batch")).toBeUndefined();
    const reply = await onPipeline("internal");
    expect(reply).toMatchObject({ status: 403, type: "permission", code: "pipeline_not_allowed", message: 'this API key may not be used on pipeline "internal"' });
  });

  it("rejects an unknown role and an empty pipelines list at load", async () => {
    await writeFile(join(dir, "bad.json"), keysFile([{ id: "x", hash: hash("k"), tenant: "t", role: "root" }]));
    await expect(step({ keysFile: "./bad.json" })).rejects.toThrow("/keys/0/role must be equal to one of the allowed values");
    await writeFile(join(dir, "bad.json"), keysFile([{ id: "x", hash: hash("k"), tenant: "t", pipelines: [] }]));
    await expect(step({ keysFile: "./bad.json" })).rejects.toThrow("/keys/0/pipelines must NOT have fewer than 1 items");
  });

  it("uses only the configured headers, in their order", async () => {
    const { hooks } = await step({ headers: ["X-Gateway-Key"] });
    expect((await auth(hooks, { authorization: `Bearer ${KEY_A}` })).reply).toMatchObject({ code: "missing_api_key" });
    expect((await auth(hooks, { "x-gateway-key": KEY_A })).reply).toBeUndefined();

    const both = await step({ headers: ["x-api-key", "authorization"] });
    const { ex } = await auth(both.hooks, { authorization: `Bearer ${KEY_A}`, "x-api-key": KEY_MINI }, "mock-1");
    expect(ex.keyId).toBe("mini");
  });

  it("fails the load naming the path when the keys file is missing or invalid", async () => {
    await expect(step({ keysFile: "./nope.json" })).rejects.toThrow(`keys file ${join(dir, "nope.json")}: cannot read it (no such file)`);

    await writeFile(join(dir, "bad.json"), '{ "keys": [sk-live-123');
    const notJson = step({ keysFile: "./bad.json" });
    await expect(notJson).rejects.toThrow(`keys file ${join(dir, "bad.json")}: not valid JSON`);
    await expect(notJson).rejects.not.toThrow("sk-live-123");

    await writeFile(join(dir, "bad.json"), keysFile([{ id: "x", hash: "md5:abc", tenant: "t" }]));
    await expect(step({ keysFile: "./bad.json" })).rejects.toThrow("/keys/0/hash must be sha256:<64 hex digits>");

    await writeFile(join(dir, "bad.json"), keysFile([{ id: "x", hash: hash("k"), tenant: "t", key: "k" }]));
    await expect(step({ keysFile: "./bad.json" })).rejects.toThrow("/keys/0/key: unknown property");

    await writeFile(join(dir, "bad.json"), keysFile([{ id: "x", hash: hash("k"), tenant: "t" }, { id: "x", hash: hash("j"), tenant: "t" }]));
    await expect(step({ keysFile: "./bad.json" })).rejects.toThrow('/keys/1/id "x" is used twice');

    await writeFile(join(dir, "bad.json"), keysFile([{ id: "x", hash: hash("k"), tenant: "t" }, { id: "y", hash: hash("k"), tenant: "u" }]));
    await expect(step({ keysFile: "./bad.json" })).rejects.toThrow('/keys/1/hash is the same as key "x"');

    await writeFile(join(dir, "bad.json"), keysFile([{ id: "x", hash: hash("k"), tenant: "t", expiresAt: "next tuesday" }]));
    await expect(step({ keysFile: "./bad.json" })).rejects.toThrow("/keys/0/expiresAt must be an ISO 8601 time");

    // The schema says date-time: a time without a zone would be read in the gateway's local time.
    await writeFile(join(dir, "bad.json"), keysFile([{ id: "x", hash: hash("k"), tenant: "t", expiresAt: "2027-01-31T00:00:00" }]));
    await expect(step({ keysFile: "./bad.json" })).rejects.toThrow("/keys/0/expiresAt must be an ISO 8601 time");
  });

  it("picks up a changed keys file, keeps the old keys on a broken one, and survives replace-by-rename", async () => {
    const { log, lines } = captureLog();
    const { hooks } = await step({ reloadIntervalMs: 10 }, { log });
    const path = join(dir, "keys.json");
    expect((await auth(hooks, { "x-api-key": KEY_B })).reply).toMatchObject({ code: "invalid_api_key" });

    await writeFile(path, keysFile([...baseKeys, { id: "bravo", hash: hash(KEY_B), tenant: "initech" }]));
    await vi.waitFor(async () => expect((await auth(hooks, { "x-api-key": KEY_B })).reply).toBeUndefined(), { timeout: 5000 });

    await writeFile(path, '{ "keys": [ ');
    await vi.waitFor(() => expect(lines.some((l) => l.msg === "keys file reload failed; keeping the keys loaded before")).toBe(true), { timeout: 5000 });
    expect((await auth(hooks, { "x-api-key": KEY_B })).reply).toBeUndefined();
    expect((await auth(hooks, { "x-api-key": KEY_A })).reply).toBeUndefined();

    // Deploy tools write a new file and rename it over the old one.
    await writeFile(join(dir, "keys.next"), keysFile([{ id: "bravo", hash: hash(KEY_B), tenant: "initech" }]));
    await rename(join(dir, "keys.next"), path);
    await vi.waitFor(async () => expect((await auth(hooks, { "x-api-key": KEY_A })).reply).toMatchObject({ code: "invalid_api_key" }), { timeout: 5000 });
    const { ex } = await auth(hooks, { "x-api-key": KEY_B });
    expect(ex.tenant).toBe("initech");

  });

  it("refuses every key once the keys file is deleted (revocation by deletion fails closed), and accepts them again when it is back", async () => {
    const { log, lines } = captureLog();
    const { hooks } = await step({ reloadIntervalMs: 10 }, { log });
    const path = join(dir, "keys.json");
    expect((await auth(hooks, { "x-api-key": KEY_A })).reply).toBeUndefined();

    await rm(path);
    await vi.waitFor(async () => expect((await auth(hooks, { "x-api-key": KEY_A })).reply).toMatchObject({ status: 401, code: "invalid_api_key" }), { timeout: 5000 });
    expect(lines.some((l) => l.msg === "keys file removed; refusing every key until it is back" && l.level === 50)).toBe(true);

    await writeFile(path, keysFile(baseKeys));
    await vi.waitFor(async () => expect((await auth(hooks, { "x-api-key": KEY_A })).reply).toBeUndefined(), { timeout: 5000 });
  });

  it("never writes a presented key to the logs", async () => {
    const { log, lines } = captureLog();
    const { hooks } = await step({ reloadIntervalMs: 10 }, { log });
    await auth(hooks, { authorization: `Bearer ${KEY_A}` });
    await auth(hooks, { authorization: "Bearer sk-not-a-key" });
    await writeFile(join(dir, "keys.json"), "not json");
    await vi.waitFor(() => expect(lines.length).toBeGreaterThan(0), { timeout: 5000 });
    const text = JSON.stringify(lines);
    expect(text).not.toContain(KEY_A);
    expect(text).not.toContain("sk-not-a-key");
  });
});
