import { describe, expect, it } from "vitest";
import type { Attempt, Backend } from "../../../core/index.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import selectFallback from "../../../plugins/select-fallback/index.js";

const backends = new Map<string, Backend>(["openai", "azure", "claude", "local"].map((id) => [id, createTestBackend(id)]));
const attemptsFor = (...ids: string[]): Attempt[] => ids.map((id) => ({ backend: backends.get(id)!, model: "m" }));
const ids = (attempts: Attempt[]) => attempts.map((a) => a.backend.id);

async function plan(config: unknown, ...planned: string[]) {
  const { hooks } = await createTestStep(selectFallback, config, { backends });
  return ids(await hooks.plan.promise(attemptsFor(...planned), createTestExchange()));
}

describe("select-fallback", () => {
  it("puts the listed backends first, in the configured order", async () => {
    expect(await plan({ order: ["claude", "azure"] }, "openai", "azure", "claude")).toEqual(["claude", "azure", "openai"]);
  });

  it("keeps unlisted backends after the listed ones, in file order", async () => {
    expect(await plan({ order: ["local"] }, "openai", "azure", "claude", "local")).toEqual(["local", "openai", "azure", "claude"]);
  });

  it("drops unlisted backends when exclusive", async () => {
    expect(await plan({ order: ["claude", "openai"], exclusive: true }, "openai", "azure", "claude", "local")).toEqual(["claude", "openai"]);
  });

  it("skips listed backends that are not in the plan (they cannot serve the model)", async () => {
    expect(await plan({ order: ["claude", "azure", "openai"] }, "openai", "azure")).toEqual(["azure", "openai"]);
  });

  it("leaves an exclusive plan empty when no listed backend serves the model", async () => {
    expect(await plan({ order: ["claude"], exclusive: true }, "openai", "azure")).toEqual([]);
  });

  it("fails at create when order names a backend the pipeline does not have", async () => {
    await expect(createTestStep(selectFallback, { order: ["openai", "opneai"] }, { backends })).rejects.toThrow(
      'select-fallback: order names "opneai", not a backend of pipeline "test" (backends: openai, azure, claude, local)',
    );
  });

  it("requires a non-empty order without duplicates", async () => {
    await expect(createTestStep(selectFallback, {}, { backends })).rejects.toThrow('missing required property "order"');
    await expect(createTestStep(selectFallback, { order: [] }, { backends })).rejects.toThrow("/order");
    await expect(createTestStep(selectFallback, { order: ["openai", "openai"] }, { backends })).rejects.toThrow("/order");
  });
});
