import { Volume } from "memfs";
import { describe, expect, it } from "vitest";
import { compilePipeline } from "../../core/engine/compile.js";
import { loadPipelines } from "../../load/load-pipelines.js";
import { silentLogger } from "../../core/contract/log.js";
import { PluginRegistry } from "../../load/registry.js";
import providerHttp from "../../plugins/provider-http/index.js";
import formatFake from "../fixtures/plugins/builtin/format-fake/index.js";
import providerFake from "../fixtures/plugins/builtin/provider-fake/index.js";

const registry = PluginRegistry.fromPlugins([providerFake, providerHttp, formatFake]);

async function load(files: Record<string, unknown>) {
  const vol = Volume.fromJSON(Object.fromEntries(Object.entries(files).map(([name, v]) => [name, JSON.stringify(v, null, 2)])));
  return loadPipelines(Object.keys(files), { registry, fs: vol.promises, env: {} });
}

const fake = { use: "provider-fake", config: { baseUrl: "http://127.0.0.1:9" } };
const web = { use: "provider-http", config: { baseUrl: "http://127.0.0.1:9" } };
const messages = (result: Awaited<ReturnType<typeof load>>) => result.problems.map((p) => p.message);

describe("loading http routes", () => {
  it("takes every method when the route names none, and the one it names otherwise", async () => {
    const { pipelines, problems } = await load({
      "/p/a.pipeline.json": { id: "a", routes: [{ path: "/api", format: "http" }, { method: "GET", path: "/static", format: "http" }], backends: { web }, steps: [] },
    });
    expect(problems).toEqual([]);
    expect(pipelines[0]!.routes).toEqual([
      { method: "*", path: "/api", format: "http", endpoint: "generate" },
      { method: "GET", path: "/static", format: "http", endpoint: "generate" },
    ]);
  });

  it("rejects a models endpoint on an http route", async () => {
    const result = await load({ "/p/a.pipeline.json": { id: "a", routes: [{ path: "/api", format: "http", endpoint: "models" }], backends: { web }, steps: [] } });
    expect(messages(result)).toEqual(["an http route proxies requests; it has no models endpoint"]);
  });

  it("rejects a count-tokens endpoint on an http route", async () => {
    const result = await load({ "/p/a.pipeline.json": { id: "a", routes: [{ path: "/api", format: "http", endpoint: "count-tokens" }], backends: { web }, steps: [] } });
    expect(messages(result)).toEqual(["an http route proxies requests; it has no count-tokens endpoint"]);
  });

  it("rejects two http routes claiming the same prefix and method, trailing slash or not", async () => {
    const result = await load({
      "/p/a.pipeline.json": { id: "a", routes: [{ path: "/api", format: "http" }], backends: { web }, steps: [] },
      "/p/b.pipeline.json": { id: "b", routes: [{ method: "DELETE", path: "/api/", format: "http" }], backends: { web }, steps: [] },
    });
    expect(messages(result)).toEqual([expect.stringMatching(/^http route DELETE \/api\/ is already claimed at \/p\/a\.pipeline\.json:\d+:\d+$/)]);
  });

  it("lets a model route and an http prefix share a path", async () => {
    const result = await load({
      "/p/a.pipeline.json": { id: "a", routes: [{ path: "/v1", format: "http" }], backends: { web }, steps: [] },
      "/p/b.pipeline.json": { id: "b", routes: [{ path: "/v1", format: "fake-chat" }], backends: { f: fake }, steps: [] },
    });
    expect(result.problems).toEqual([]);
  });

  it("names http among the known formats", async () => {
    const result = await load({ "/p/a.pipeline.json": { id: "a", routes: [{ path: "/x", format: "htpp" }], backends: { web }, steps: [] } });
    expect(messages(result)).toEqual(['unknown format "htpp"; known formats: fake-chat, http']);
  });
});

describe("compiling http pipelines", () => {
  it("refuses a backend that cannot forward behind an http route", async () => {
    const { pipelines } = await load({ "/p/a.pipeline.json": { id: "a", routes: [{ path: "/api", format: "http" }], backends: { web, f: fake }, steps: [] } });
    await expect(compilePipeline(pipelines[0]!, silentLogger)).rejects.toThrow(
      "backend f (provider-fake) cannot serve this pipeline's http routes: its provider does not forward requests",
    );
  });

  it("refuses an http backend behind a model route", async () => {
    const { pipelines } = await load({ "/p/a.pipeline.json": { id: "a", routes: [{ path: "/v1/chat", format: "fake-chat" }], backends: { web }, steps: [] } });
    await expect(compilePipeline(pipelines[0]!, silentLogger)).rejects.toThrow("backend web (provider-http) speaks no model format");
  });
});
