import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { definePlugin } from "../../core/index.js";
import { describeCommands, describePlugins } from "../../cli/plugin-catalog.js";
import { PluginRegistry } from "../../load/registry.js";

describe("describePlugins", () => {
  it("lists the endpoint kinds a step answers, admin ones marked", async () => {
    const whoami = (await import("../fixtures/plugins/endpoint-whoami/index.js")).default;
    const admin = definePlugin({ ...whoami, name: "ops-only", endpoints: { ops: { description: "for operators", body: "handler", admin: true } } });
    const text = describePlugins(PluginRegistry.fromPlugins([whoami, admin]));
    expect(text).toContain('  endpoint-whoami (step): Answers whoami routes with the caller\'s tenant and key id.\n    answers routes with "endpoint": "whoami": the caller as auth identified it\n');
    expect(text).toContain('    answers routes with "endpoint": "ops" (admin keys only): for operators\n');
  });

  it("lists each plugin by kind with its description and config fields as dotted names", async () => {
    const registry = await PluginRegistry.builtIn(fileURLToPath(new URL("../fixtures/plugins/builtin/", import.meta.url)));
    const text = describePlugins(registry);
    expect(text).toBe(
      [
        "Step plugins (steps[].use)",
        "",
        "  step-echo (step): Adds a greeting header to every reply.",
        '    greeting          string, default "hi": Text of the x-greeting header.',
        "    limits            object, default {}: How often the greeting may change.",
        "    limits.perMinute  integer, default 60: Changes allowed per minute.",
        "",
        "Provider plugins (backends.<id>.use)",
        "",
        "  provider-fake (provider): Answers every request with a 503, without any network.",
        "    baseUrl  string, required: Upstream address.",
        "    apiKey   string: Sent as a bearer token.",
        "",
        "Format plugins (routes[].format)",
        "",
        "  format-fake (format) [format fake-chat]: A wire format for tests.",
        "    no config",
        "",
      ].join("\n"),
    );
  });

  it("shows enums, unions, arrays of objects and $ref'd definitions", () => {
    const plugin = definePlugin({
      kind: "step",
      name: "select-rules",
      description: "Routes by rules.",
      configSchema: {
        type: "object",
        additionalProperties: false,
        definitions: { Rule: { type: "object", additionalProperties: false, properties: { model: { type: "string", description: "Model glob." } } } },
        properties: {
          mode: { enum: ["first", "all"], default: "first", description: "Which rules apply." },
          on: { type: "array", items: { oneOf: [{ type: "string" }, { type: "integer" }] }, description: "Triggers." },
          rules: { type: "array", items: { $ref: "#/definitions/Rule" }, description: "The rules." },
        },
      },
      create: () => ({ apply: () => undefined }),
    });
    const text = describePlugins(PluginRegistry.fromPlugins([plugin]));
    expect(text).toContain('    mode           "first" | "all", default "first": Which rules apply.');
    expect(text).toContain("    on             array of string | integer: Triggers.");
    expect(text).toContain("    rules          array of object: The rules.");
    expect(text).toContain("    rules[].model  string: Model glob.");
  });
});

describe("describeCommands", () => {
  it("lists each plugin command with its plugin and its description indented under it", () => {
    const step = definePlugin({
      kind: "step",
      name: "step-keys",
      description: "has a command",
      configSchema: { type: "object", additionalProperties: false, properties: {} },
      commands: { keys: { description: "keys add --id ID\nkeys list", run: async () => 0 } },
      create: () => ({ apply: () => undefined }),
    });
    const registry = PluginRegistry.fromPlugins([step]);
    expect(describeCommands(registry.commands())).toBe(["  switchyard keys    (from step-keys)", "      keys add --id ID", "      keys list", ""].join("\n"));
    expect(describePlugins(registry)).toContain("  step-keys (step): has a command\n    commands: switchyard keys (see switchyard help)\n");
    expect(describeCommands([])).toBe("");
  });
});

describe("describePlugins on a provider with shared upstream fields", () => {
  it("shows the shared description with the provider's own default", async () => {
    const { default: providerOpenai } = await import("../../plugins/provider-openai/index.js");
    const text = describePlugins(PluginRegistry.fromPlugins([providerOpenai]));
    expect(text).toMatch(/ connectTimeoutMs +integer, default 10000: How long establishing a connection \(TCP and TLS\) may take/);
    expect(text).toMatch(/ apiKeys +array of string: Several keys, of one account or of several, instead of apiKey/);
  });
});
