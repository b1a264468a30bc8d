import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { definePlugin } from "../../core/index.js";
import { PluginLoadError, PluginRegistry } from "../../load/registry.js";

const fixtures = fileURLToPath(new URL("../fixtures/plugins/", import.meta.url));
const externalDir = `${fixtures}external`;

const noopStep = (name: string) =>
  definePlugin({
    kind: "step",
    name,
    description: `${name} does nothing`,
    configSchema: { type: "object", additionalProperties: false, properties: {} },
    create: () => ({ apply: () => undefined }),
  });

describe("PluginRegistry.builtIn", () => {
  it("discovers every plugin folder, by name, with format plugins keyed by their format", async () => {
    const registry = await PluginRegistry.builtIn(`${fixtures}builtin`);
    expect(registry.list().map((p) => [p.name, p.kind])).toEqual([
      ["format-fake", "format"],
      ["provider-fake", "provider"],
      ["step-echo", "step"],
    ]);
    expect(registry.formats.list()).toEqual(["fake-chat"]);
    expect(registry.formats.get("fake-chat")?.format).toBe("fake-chat");
    expect(registry.formats.get("openai-chat")).toBeUndefined();
    expect((await registry.resolve("step-echo", "/anywhere"))?.kind).toBe("step");
    expect(await registry.resolve("step-missing", "/anywhere")).toBeUndefined();
  });

  it("accepts the folder as a file URL", async () => {
    const registry = await PluginRegistry.builtIn(new URL("../fixtures/plugins/builtin/", import.meta.url));
    expect(registry.list()).toHaveLength(3);
  });

  it("throws naming each malformed plugin folder instead of skipping it", async () => {
    const error = await PluginRegistry.builtIn(`${fixtures}malformed`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginLoadError);
    const message = (error as Error).message;
    expect(message).toContain('plugin folder "step-misnamed": name "step-renamed" must equal its folder name "step-misnamed"');
    expect(message).toMatch(/plugin folder "step-no-schema": configSchema does not compile: .*minimun/);
    expect(message).not.toContain("step-ok");
  });

  it("throws naming a plugin whose module fails to import", async () => {
    await expect(PluginRegistry.builtIn(`${fixtures}broken-import`)).rejects.toThrow(/plugin folder "step-throws": failed to import .*step-throws exploded at import/);
  });

  it("throws when the plugins folder itself is missing", async () => {
    await expect(PluginRegistry.builtIn(`${fixtures}no-such-folder`)).rejects.toThrow(/cannot read the plugins folder/);
  });
});

describe("PluginRegistry.resolve with a path", () => {
  it("imports a ./ module relative to the pipeline folder and caches it", async () => {
    const registry = PluginRegistry.fromPlugins([]);
    const plugin = await registry.resolve("./my-step.ts", externalDir);
    expect(plugin).toMatchObject({ kind: "step", name: "my-step" });
    expect(await registry.resolve("../external/my-step.ts", externalDir)).toBe(plugin);
  });

  it("imports a folder through its index file", async () => {
    const plugin = await PluginRegistry.fromPlugins([]).resolve("./folder-plugin", externalDir);
    expect(plugin?.name).toBe("folder-plugin");
  });

  it("rejects a missing path and a module that does not export a plugin", async () => {
    const registry = PluginRegistry.fromPlugins([]);
    await expect(registry.resolve("./nowhere.ts", externalDir)).rejects.toThrow('plugin "./nowhere.ts": no such file or folder');
    await expect(registry.resolve("./not-a-plugin.ts", externalDir)).rejects.toThrow(/plugin "\.\/not-a-plugin\.ts": kind must be one of step, provider, format/);
  });

  it("treats a name without ./ as a built-in name, never as a path", async () => {
    expect(await PluginRegistry.fromPlugins([]).resolve("my-step.ts", externalDir)).toBeUndefined();
  });
});

describe("PluginRegistry.fromPlugins", () => {
  it("lists the given plugins sorted by name", () => {
    const registry = PluginRegistry.fromPlugins([noopStep("b-step"), noopStep("a-step")]);
    expect(registry.list().map((p) => p.name)).toEqual(["a-step", "b-step"]);
  });

  it("rejects two plugins with one name", () => {
    expect(() => PluginRegistry.fromPlugins([noopStep("same"), noopStep("same")])).toThrow('two plugins are named "same"');
  });

  it("rejects a config schema that lets unknown keys through", () => {
    const open = { ...noopStep("open"), configSchema: { type: "object", properties: {} } };
    expect(() => PluginRegistry.fromPlugins([open])).toThrow(/plugin "open": configSchema must set additionalProperties: false/);
  });

  it("rejects a step without create and a format whose translator names another format", () => {
    const { create: _create, ...noCreate } = noopStep("no-create");
    expect(() => PluginRegistry.fromPlugins([noCreate as never])).toThrow(/create must be a function/);
    const format = definePlugin({
      kind: "format",
      name: "fmt",
      format: "one",
      description: "mismatched",
      configSchema: { type: "object", additionalProperties: false, properties: {} },
      translator: { format: "two" } as never,
    });
    expect(() => PluginRegistry.fromPlugins([format])).toThrow('translator.format "two" must equal format "one"');
  });
});

describe("plugin commands", () => {
  const withCommands = (name: string, commands: Record<string, unknown>) => ({ ...noopStep(name), commands }) as never;
  const command = (description: string) => ({ description, run: async () => 0 });

  it("indexes the commands plugins contribute, by name, with their plugin", async () => {
    const registry = PluginRegistry.fromPlugins([withCommands("b-step", { zeta: command("z") }), withCommands("a-step", { keys: command("k"), "keys-audit": command("a") })]);
    expect(registry.commands().map((c) => [c.name, c.plugin])).toEqual([["keys", "a-step"], ["keys-audit", "a-step"], ["zeta", "b-step"]]);
    expect(await registry.command("zeta")!.command.run([])).toBe(0);
    expect(registry.command("serve")).toBeUndefined();
  });

  it("rejects two plugins contributing one command name", () => {
    expect(() => PluginRegistry.fromPlugins([withCommands("a", { keys: command("x") }), withCommands("b", { keys: command("y") })])).toThrow(
      'plugins "a" and "b" both contribute the command "keys"',
    );
  });

  it("rejects a command named like a core command, a badly spelt name and a command without run", () => {
    expect(() => PluginRegistry.fromPlugins([withCommands("a", { serve: command("x") })])).toThrow(/command "serve": the name is a core command/);
    expect(() => PluginRegistry.fromPlugins([withCommands("a", { Keys_Add: command("x") })])).toThrow(/command "Keys_Add": the name must be lower-case words/);
    expect(() => PluginRegistry.fromPlugins([withCommands("a", { keys: { description: "no run" } })])).toThrow(/command "keys": run must be a function/);
    expect(() => PluginRegistry.fromPlugins([withCommands("a", { keys: { run: async () => 0 } })])).toThrow(/command "keys": description must be a non-empty string/);
  });

  it("finds the keys command of the built-in auth-api-key plugin", async () => {
    const registry = await PluginRegistry.builtIn();
    expect(registry.command("keys")?.plugin).toBe("auth-api-key");
  });
});
