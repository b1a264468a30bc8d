import { Volume } from "memfs";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../lib/log.js";
import { compilePipeline } from "../../../core/engine/compile.js";
import { createMemoryStore } from "../../../lib/state/memory.js";
import { loadPipelines } from "../../../load/load-pipelines.js";
import { PluginRegistry } from "../../../load/registry.js";
import countTokens from "../../../plugins/count-tokens/index.js";
import formatHttp from "../../../plugins/format-http/index.js";
import httpProxy from "../../../plugins/http-proxy/index.js";
import listModels from "../../../plugins/list-models/index.js";
import providerHttp from "../../../plugins/provider-http/index.js";
import formatFake from "../../fixtures/plugins/builtin/format-fake/index.js";
import providerFake from "../../fixtures/plugins/builtin/provider-fake/index.js";

const registry = PluginRegistry.fromPlugins([providerFake, providerHttp, formatFake, formatHttp, httpProxy, listModels, countTokens]);

async function load(files: Record<string, unknown>) {
  const vol = Volume.fromJSON(Object.fromEntries(Object.entries(files).map(([name, v]) => [name, JSON.stringify(v, null, 2)])));
  return loadPipelines(Object.keys(files), { registry, fs: vol.promises, env: {} });
}

const compileOptions = { log: silentLogger, openStore: async () => createMemoryStore() };
const fake = { use: "provider-fake", config: { baseUrl: "http://127.0.0.1:9" } };
const web = { use: "provider-http", config: { baseUrl: "http://127.0.0.1:9" } };
const proxyStep = { use: "http-proxy" };
const proxy = (path: string, method?: string) => ({ ...(method ? { method } : {}), path, format: "http", endpoint: "proxy" });
const messages = (result: Awaited<ReturnType<typeof load>>) => result.problems.map((p) => p.message);

describe("loading proxy routes", () => {
  it("takes every method when the route names none, and the one it names otherwise", async () => {
    const { pipelines, problems } = await load({
      "/p/a.pipeline.json": { id: "a", routes: [proxy("/api"), proxy("/static", "GET")], backends: { web }, steps: [proxyStep] },
    });
    expect(problems).toEqual([]);
    expect(pipelines[0]!.routes).toEqual([
      { method: "*", path: "/api", format: "http", endpoint: "proxy", jsonBody: false, prefix: true },
      { method: "GET", path: "/static", format: "http", endpoint: "proxy", jsonBody: false, prefix: true },
    ]);
  });

  it("rejects a proxy route in a pipeline without the http-proxy step, naming the step to add", async () => {
    const result = await load({ "/p/a.pipeline.json": { id: "a", routes: [proxy("/api")], backends: { web }, steps: [] } });
    expect(messages(result)).toEqual(['no step of this pipeline answers endpoint "proxy"; add a step that does: { "use": "http-proxy" }']);
  });

  it("rejects an endpoint no installed plugin answers, listing the ones they do", async () => {
    const result = await load({ "/p/a.pipeline.json": { id: "a", routes: [{ path: "/api", format: "http", endpoint: "proxi" }], backends: { web }, steps: [proxyStep] } });
    expect(messages(result)).toEqual(['unknown endpoint "proxi"; installed plugins answer generate, count-tokens, proxy, models']);
  });

  it("rejects a proxy route in a model format", async () => {
    const result = await load({ "/p/a.pipeline.json": { id: "a", routes: [{ path: "/api", format: "fake-chat", endpoint: "proxy" }], backends: { web }, steps: [proxyStep] } });
    expect(messages(result)).toEqual(['endpoint "proxy" (http-proxy) answers in http, not fake-chat']);
  });

  it("rejects two proxy routes claiming the same prefix and method, trailing slash or not", async () => {
    const result = await load({
      "/p/a.pipeline.json": { id: "a", routes: [proxy("/api")], backends: { web }, steps: [proxyStep] },
      "/p/b.pipeline.json": { id: "b", routes: [proxy("/api/", "DELETE")], backends: { web }, steps: [proxyStep] },
    });
    expect(messages(result)).toEqual([expect.stringMatching(/^prefix route DELETE \/api\/ is already claimed at \/p\/a\.pipeline\.json:\d+:\d+$/)]);
  });

  it("lets a model route and a proxy prefix share a path", async () => {
    const result = await load({
      "/p/a.pipeline.json": { id: "a", routes: [proxy("/v1")], backends: { web }, steps: [proxyStep] },
      "/p/b.pipeline.json": { id: "b", routes: [{ path: "/v1", format: "fake-chat" }], backends: { f: fake }, steps: [] },
    });
    expect(result.problems).toEqual([]);
  });

  it("names http among the known formats", async () => {
    const result = await load({ "/p/a.pipeline.json": { id: "a", routes: [{ path: "/x", format: "htpp" }], backends: { web }, steps: [] } });
    expect(messages(result)).toEqual(['unknown format "htpp"; known formats: fake-chat, http']);
  });
});

describe("compiling proxy pipelines", () => {
  it("refuses a backend that cannot forward behind a proxy route", async () => {
    const { pipelines } = await load({ "/p/a.pipeline.json": { id: "a", routes: [proxy("/api")], backends: { web, f: fake }, steps: [proxyStep] } });
    await expect(compilePipeline(pipelines[0]!, compileOptions)).rejects.toThrow(
      "backend f (provider-fake) cannot serve this pipeline's proxy routes: its provider does not forward requests",
    );
  });

  it("refuses an http backend behind a model route", async () => {
    const { pipelines } = await load({ "/p/a.pipeline.json": { id: "a", routes: [{ path: "/v1/chat", format: "fake-chat" }], backends: { web }, steps: [] } });
    await expect(compilePipeline(pipelines[0]!, compileOptions)).rejects.toThrow("backend web (provider-http) speaks no model format");
  });
});
