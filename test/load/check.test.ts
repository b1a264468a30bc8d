import { join } from "node:path";
import { Volume } from "memfs";
import { describe, expect, it } from "vitest";
import { checkPipelines, formatProblem } from "../../load/check.js";
import { PluginRegistry } from "../../load/registry.js";
import formatFake from "../fixtures/plugins/builtin/format-fake/index.js";
import providerFake from "../fixtures/plugins/builtin/provider-fake/index.js";
import stepEcho from "../fixtures/plugins/builtin/step-echo/index.js";

const registry = PluginRegistry.fromPlugins([stepEcho, providerFake, formatFake]);

describe("checkPipelines", () => {
  it("returns nothing for good files and every problem for bad ones", async () => {
    const vol = Volume.fromJSON({
      "/p/good.pipeline.json": `{ "id": "good", "routes": [{ "path": "/a", "format": "fake-chat" }], "steps": [{ "use": "step-echo" }] }`,
      "/p/bad.pipeline.json": `{\n  "id": "bad",\n  "routes": [{ "path": "/b", "format": "fake-chat" }],\n  "steps": [{ "use": "step-echo", "config": { "greeting": "\${env:GREETING}" } }]\n}`,
    });
    expect(await checkPipelines(["/p/good.pipeline.json"], registry, vol.promises, {})).toEqual([]);
    const problems = await checkPipelines(["/p"], registry, vol.promises, {});
    expect(problems).toEqual([{ file: "/p/bad.pipeline.json", line: 4, col: 59, message: "environment variable GREETING is not set" }]);
  });
});

describe("formatProblem", () => {
  it("prints file:line:col: message with the file relative to the working folder", () => {
    const file = join(process.cwd(), "pipelines", "chat.pipeline.json");
    expect(formatProblem({ file, line: 3, col: 7, message: 'unknown property "bogus"' })).toBe('pipelines/chat.pipeline.json:3:7: unknown property "bogus"');
    expect(formatProblem({ file: "pipelines/x.pipeline.json", line: 1, col: 1, message: "m" })).toBe("pipelines/x.pipeline.json:1:1: m");
  });
});
