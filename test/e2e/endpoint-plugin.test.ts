/**
 * An endpoint kind added by a plugin outside the tree (test/fixtures/plugins/endpoint-whoami):
 * served through a real gateway after auth, gated by its step's `when`, and refused at load when
 * the pipeline lacks the step. Nothing in core knows the kind.
 */
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";

const KEY = "sk-whoami-test-key-1";
// A plugin path is relative to its pipeline file, which startGateway writes to a fresh folder in tmpdir().
const fixture = relative(join(tmpdir(), "switchyard-test-any"), join(import.meta.dirname, "../fixtures/plugins/endpoint-whoami"));

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function serve(step: Record<string, unknown>, routes: unknown[] = [{ method: "GET", path: "/whoami", format: "openai-chat", endpoint: "whoami" }]) {
  return startGateway({
    "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]),
    "who.pipeline.json": {
      id: "who",
      routes,
      backends: { mock: { use: "provider-mock", models: ["mock"] } },
      steps: [{ use: "auth-api-key", config: { keysFile: "./keys.json" } }, { use: fixture, ...step }],
    },
  });
}

describe("an endpoint plugin from outside the tree", () => {
  it("answers its routes after auth, with the config its schema checked", async () => {
    gw = await serve({ config: { shout: true } });
    const denied = await fetch(`${gw.url}/whoami`);
    expect(denied.status).toBe(401);
    const r = await fetch(`${gw.url}/whoami`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-switchyard-request-id")).toBeTruthy();
    expect(await r.json()).toEqual({ tenant: "ACME", keyId: "k1", pipeline: "who", backends: ["mock"] });
  });

  it("is passed over when its step's when does not match: 404 in the route's format", async () => {
    gw = await serve({ when: { header: { name: "x-team", equals: "ops" } } });
    const r = await fetch(`${gw.url}/whoami`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: { code: "no_endpoint", message: "no step of pipeline who answers this whoami request" } });
    const ops = await fetch(`${gw.url}/whoami`, { headers: { authorization: `Bearer ${KEY}`, "x-team": "ops" } });
    expect(ops.status).toBe(200);
  });

  it("refuses its config when the schema does", async () => {
    await expect(serve({ config: { shout: "yes" } })).rejects.toThrow(/who\.pipeline\.json:\d+:\d+: endpoint-whoami config: must be boolean/);
  });
});
