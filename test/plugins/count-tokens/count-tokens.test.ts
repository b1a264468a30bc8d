import { Volume } from "memfs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compilePipeline } from "../../../core/engine/compile.js";
import { definePlugin, GatewayError, type UpstreamCall } from "../../../core/index.js";
import { upstreamConnectError, upstreamStatusError } from "../../../lib/upstream/errors.js";
import { loadPipelines } from "../../../load/load-pipelines.js";
import { silentLogger } from "../../../lib/log.js";
import { PluginRegistry } from "../../../load/registry.js";
import { GatewayServer } from "../../../core/serve/server.js";
import formatAnthropic from "../../../plugins/format-anthropic-messages/index.js";
import formatOpenAiChat from "../../../plugins/format-openai-chat/index.js";
import countTokens from "../../../plugins/count-tokens/index.js";
import { createMemoryStore } from "../../../lib/state/memory.js";

/** Calls the counting providers received, by backend id. */
const counted: { backend: string; call: UpstreamCall }[] = [];

/** A provider whose countTokens answers `count`, or fails as `fail` says; `count` absent: it cannot count. */
const providerCounter = definePlugin<{ count?: number; fail?: "connect" | "400" | "503" }>({
  kind: "provider",
  name: "provider-counter",
  description: "Counts tokens (or fails to) without any network.",
  configSchema: {
    type: "object",
    additionalProperties: false,
    properties: {
      count: { type: "integer", description: "The count it answers; absent: the provider cannot count." },
      fail: { type: "string", enum: ["connect", "400", "503"], description: "Fail every count this way." },
    },
  },
  create: (config, env) => ({
    formats: ["anthropic-messages"],
    send: () => Promise.reject(new GatewayError({ status: 500, type: "internal", code: "not_used", message: "not used" })),
    close: () => Promise.resolve(),
    ...(config.count === undefined && config.fail === undefined
      ? {}
      : {
          countTokens: async (call: UpstreamCall) => {
            counted.push({ backend: env.id, call });
            if (config.fail === "connect") throw upstreamConnectError("provider-counter", "ECONNREFUSED");
            if (config.fail !== undefined) throw upstreamStatusError({ status: Number(config.fail), message: `count failed with ${config.fail}`, source: "provider-counter" });
            return { inputTokens: config.count! };
          },
        }),
  }),
});

const registry = PluginRegistry.fromPlugins([providerCounter, formatAnthropic, formatOpenAiChat, countTokens]);

const pipeline = {
  id: "counting",
  routes: [
    { method: "POST", path: "/v1/messages/count_tokens", format: "anthropic-messages", endpoint: "count-tokens" },
    { method: "POST", path: "/openai/count", format: "openai-chat", endpoint: "count-tokens" },
  ],
  backends: {
    mute: { use: "provider-counter", models: ["claude-*"], config: {} },
    refused: { use: "provider-counter", models: ["claude-fallback"], config: { fail: "connect" } },
    rejecting: { use: "provider-counter", models: ["claude-rejected"], config: { fail: "400" } },
    counter: { use: "provider-counter", models: ["claude-*"], modelMap: { "claude-sonnet": "claude-sonnet-4-5-20250929" }, config: { count: 42 } },
    deaf: { use: "provider-counter", models: ["gpt-*"], config: {} },
  },
  steps: [{ use: "count-tokens" }],
};

let server: GatewayServer;
let url: string;

beforeAll(async () => {
  const vol = Volume.fromJSON({ "/p/counting.pipeline.json": JSON.stringify(pipeline) });
  const { pipelines, problems } = await loadPipelines(["/p/counting.pipeline.json"], { registry, fs: vol.promises, env: {} });
  expect(problems).toEqual([]);
  server = new GatewayServer(await Promise.all(pipelines.map((p) => compilePipeline(p, { log: silentLogger, openStore: async () => createMemoryStore() }))), { log: silentLogger });
  const address = await server.listen(0, "127.0.0.1");
  url = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await server?.drain(1000);
});

function count(body: unknown, path = "/v1/messages/count_tokens") {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

const question = { messages: [{ role: "user", content: "How many tokens is this?" }], system: "Be brief." };

describe("count-tokens routes", () => {
  it("ask the first backend of the model that can count, with the client's body and the backend's model name", async () => {
    counted.length = 0;
    const res = await count({ model: "claude-sonnet", ...question });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ input_tokens: 42 });
    expect(res.headers.get("x-switchyard-backend")).toBe("counter");
    expect(counted.map((c) => c.backend)).toEqual(["counter"]);
    expect(counted[0]!.call).toMatchObject({ format: "anthropic-messages", model: "claude-sonnet-4-5-20250929", stream: false, body: { model: "claude-sonnet-4-5-20250929", ...question } });
  });

  it("move on to the next counting backend after a failure attempts.on names, and not after one it does not", async () => {
    counted.length = 0;
    const moved = await count({ model: "claude-fallback", ...question });
    expect(await moved.json()).toEqual({ input_tokens: 42 });
    expect(moved.headers.get("x-switchyard-attempts")).toBe("2");
    expect(counted.map((c) => c.backend)).toEqual(["refused", "counter"]);

    counted.length = 0;
    const rejected = await count({ model: "claude-rejected", ...question });
    expect(rejected.status).toBe(400);
    expect(await rejected.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: "count failed with 400" } });
    expect(counted.map((c) => c.backend)).toEqual(["rejecting"]);
  });

  it("answer 501 in the client's format, telling SDKs not to retry, when no backend of the model can count", async () => {
    const res = await fetch(`${url}/v1/messages/count_tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-4o", ...question }) });
    expect(res.status).toBe(501);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(await res.json()).toEqual({ type: "error", error: { type: "overloaded_error", message: 'no backend of model "gpt-4o" can count tokens' } });
  });

  it("answer 404 for a model no backend serves, and for a format without a counting reply", async () => {
    const unknown = await count({ model: "llama-3", ...question });
    expect(unknown.status).toBe(404);
    const openai = await count({ model: "claude-sonnet", messages: [{ role: "user", content: "hi" }] }, "/openai/count");
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({ error: { message: "the openai-chat format has no token count endpoint" } });
  });

  it("refuse a request that names no model", async () => {
    const res = await count(question);
    expect(res.status).toBe(400);
  });
});
