import { describe, expect, it } from "vitest";
import { createModelIndex } from "../../../core/engine/model-index.js";
import { createTestBackend } from "../../../testkit/index.js";

const openai = { ...createTestBackend("openai", undefined, ["gpt-4o", "gpt-4o-mini", "o3*"]), modelMap: { "gpt-4o": "gpt-4o-2024-11-20" } };
const claude = createTestBackend("claude", undefined, ["claude-haiku-4-5", "claude-sonnet-4-5"]);
const local = createTestBackend("local", undefined, ["*"]);

describe("model index", () => {
  it("plans every backend serving a model, in file order, exact names and globs alike", () => {
    const index = createModelIndex([openai, claude, local]);
    expect(index.attemptsFor("gpt-4o-mini").map((a) => a.backend.id)).toEqual(["openai", "local"]);
    expect(index.attemptsFor("o3-pro").map((a) => a.backend.id)).toEqual(["openai", "local"]);
    expect(index.attemptsFor("llama3").map((a) => a.backend.id)).toEqual(["local"]);
  });

  it("lets * alone (every model, the default) serve org/model names, while a pattern's * stays within its segment", () => {
    const hf = createTestBackend("hf", undefined, ["meta-llama/*"]);
    const gemini = createTestBackend("gemini", undefined, ["gemini-*"]);
    const index = createModelIndex([hf, gemini, local]);
    expect(index.attemptsFor("meta-llama/Llama-3-8B").map((a) => a.backend.id)).toEqual(["hf", "local"]);
    expect(index.attemptsFor("gemini-x/../../admin").map((a) => a.backend.id)).toEqual(["local"]);
    expect(index.attemptsFor("gemini-2.0-flash").map((a) => a.backend.id)).toEqual(["gemini", "local"]);
  });

  it("renames the model per backend through modelMap", () => {
    const index = createModelIndex([openai, local]);
    expect(index.attemptsFor("gpt-4o").map((a) => a.model)).toEqual(["gpt-4o-2024-11-20", "gpt-4o"]);
  });

  it("returns a fresh array each time, so selectors may reorder it", () => {
    const index = createModelIndex([openai, local]);
    const first = index.attemptsFor("gpt-4o");
    first.reverse();
    expect(index.attemptsFor("gpt-4o").map((a) => a.backend.id)).toEqual(["openai", "local"]);
  });

  it("plans a group's models in order, a * target expanded over the listed names", () => {
    const index = createModelIndex([openai, claude], { fast: ["gpt-4o-mini", "claude-haiku-*"], smart: "claude-sonnet-4-5" });
    expect(index.attemptsFor("fast").map((a) => `${a.backend.id}/${a.model}`)).toEqual(["openai/gpt-4o-mini", "claude/claude-haiku-4-5"]);
    expect(index.attemptsFor("smart").map((a) => `${a.backend.id}/${a.model}`)).toEqual(["claude/claude-sonnet-4-5"]);
  });

  it("lists concrete names and aliases, never globs", () => {
    const index = createModelIndex([openai, claude], { fast: ["gpt-4o-mini"] });
    const names = index.listed().map((m) => m.model);
    expect(names).toEqual(expect.arrayContaining(["gpt-4o", "gpt-4o-mini", "claude-haiku-4-5", "fast"]));
    expect(names.some((n) => n.includes("*"))).toBe(false);
  });

  it("answers no attempts for a model nobody serves", () => {
    expect(createModelIndex([openai]).attemptsFor("gemini-2.5-pro")).toEqual([]);
  });
});
