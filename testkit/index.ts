/**
 * The plugin test kit: build a step or provider from its real schema-checked config, and a
 * request Exchange to fire hooks with, without a server. Integrators use it for their plugins'
 * unit tests; end-to-end tests use real servers instead.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { checkConfig } from "../lib/schema/check-config.js";
import type { Backend, Exchange, RouteInfo } from "../core/contract/exchange.js";
import { newExchange } from "../core/engine/new-exchange.js";
import { RequestEnd } from "../core/contract/request-end.js";
import type { FormatTranslator } from "../core/contract/format.js";
import { PipelineHooks } from "../core/contract/hooks.js";
import { silentLogger } from "../lib/log.js";
import type { FormatRegistry, PluginEnv, ProviderPlugin, StepInstance, StepPlugin } from "../core/contract/plugin.js";
import type { Provider } from "../core/contract/provider.js";
import { createMemoryStore } from "../lib/state/memory.js";

export function createTestEnv(overrides: Partial<PluginEnv> = {}): PluginEnv {
  const baseDir = overrides.baseDir ?? process.cwd();
  const formats: FormatRegistry = overrides.formats ?? { get: () => undefined, list: () => [] };
  return {
    pipelineId: "test",
    id: "test-step",
    log: silentLogger,
    backends: new Map(),
    store: overrides.store ?? createMemoryStore(),
    matchers: new Map(),
    resolvePath: (p: string) => resolve(baseDir, p),
    ...overrides,
    baseDir,
    formats,
  };
}

/** Checks `config` against the plugin's schema exactly as the loader does, then creates it. */
export function configFor<C>(plugin: { name: string; configSchema: Record<string, unknown> }, config: unknown): C {
  const checked = checkConfig<C>(plugin.configSchema, config);
  if (!checked.ok) {
    throw new Error(`${plugin.name} config: ${checked.issues.map((i) => `${i.pointer || "/"} ${i.message}`).join("; ")}`);
  }
  return checked.value;
}

/** A step with its taps applied to fresh hooks. */
export async function createTestStep<C>(
  plugin: StepPlugin<C>,
  config: unknown = {},
  env: Partial<PluginEnv> = {},
): Promise<{ hooks: PipelineHooks; instance: StepInstance }> {
  const hooks = new PipelineHooks();
  const instance = await plugin.create(configFor<C>(plugin, config), createTestEnv({ id: plugin.name, ...env }));
  instance.apply(hooks);
  return { hooks, instance };
}

export async function createTestProvider<C>(plugin: ProviderPlugin<C>, config: unknown = {}, env: Partial<PluginEnv> = {}): Promise<Provider> {
  return plugin.create(configFor<C>(plugin, config), createTestEnv({ id: plugin.name, ...env }));
}

/** A translator that fails loudly when a test touches a format it did not provide. */
const noFormat = new Proxy({} as FormatTranslator, {
  get(_t, prop) {
    if (prop === "format") return "test";
    if (prop === "then") return undefined;
    throw new Error(`testkit: exchange.format.${String(prop)} used, pass a real translator in createTestExchange({ format })`);
  },
});

export interface TestExchangeInit extends Partial<Omit<Exchange, "headers" | "responseHeaders" | "attempts" | "notes" | "route">> {
  headers?: Record<string, string>;
  /** Over a POST /v1/chat/completions openai-chat generate route. */
  route?: Partial<RouteInfo>;
}

/** An exchange as the server makes it (core/engine/new-exchange.ts), with a chat request body unless `init` says otherwise. */
export function createTestExchange(init: TestExchangeInit = {}): Exchange {
  const { headers, route, ...rest } = init;
  const body = rest.body ?? { model: rest.model ?? "test-model", messages: [{ role: "user", content: "hello" }] };
  const endpoint = route?.endpoint ?? "generate";
  const x = newExchange({
    id: randomUUID(),
    pipelineId: "test",
    route: { method: "POST", path: "/v1/chat/completions", format: "openai-chat", endpoint, jsonBody: endpoint === "generate", ...route },
    format: noFormat,
    headers: Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    inbound: { path: "/v1/chat/completions", params: {}, query: {} },
    end: new RequestEnd(),
  });
  x.model = typeof body.model === "string" ? body.model : undefined;
  x.stream = body.stream === true;
  return Object.assign(x, rest, { body });
}

/** A backend record for plan-hook tests. */
export function createTestBackend(id: string, provider?: Partial<Provider>, models: string[] = ["*"]): Backend {
  const p: Provider = {
    formats: ["openai-chat"],
    send: () => Promise.reject(new Error("testkit backend: no send")),
    close: () => Promise.resolve(),
    ...provider,
  };
  return { id, use: "provider-test", provider: p, models, modelMap: {} };
}
