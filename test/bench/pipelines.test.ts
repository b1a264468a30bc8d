import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileSchema } from "../../lib/schema/check-config.js";

// The bench pipelines must stay loadable as the pipeline schema evolves, and the key the bench
// client sends must be the one its keys file admits.

const PIPELINES = fileURLToPath(new URL("../../bench/pipelines/", import.meta.url));
const schema = JSON.parse(readFileSync(fileURLToPath(new URL("../../schemas/pipeline.schema.json", import.meta.url)), "utf8")) as Record<string, unknown>;
const files = readdirSync(PIPELINES).filter((f) => f.endsWith(".pipeline.json"));

describe("bench pipelines", () => {
  it("include the default-like chat pipeline, the same with metrics, the same with the cache, the translating one, the plain HTTP one and the WebSocket one", () => {
    expect(files.sort()).toEqual(["cache.pipeline.json", "chat-metrics.pipeline.json", "chat.pipeline.json", "http.pipeline.json", "to-anthropic.pipeline.json", "websocket.pipeline.json"]);
  });

  it.each(files)("%s is valid against schemas/pipeline.schema.json", (file) => {
    const validate = compileSchema(schema);
    const doc = JSON.parse(readFileSync(PIPELINES + file, "utf8")) as unknown;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });

  it("take the upstream address from ${env:...} only, never a fixed address", () => {
    for (const file of files) {
      const text = readFileSync(PIPELINES + file, "utf8");
      expect(text, file).not.toMatch(/https?:\/\//);
      expect(text, file).toMatch(/\$\{env:BENCH_UPSTREAM(_ORIGIN)?\}/);
    }
  });

  it("admit the key the bench client sends", async () => {
    const scenariosModule = new URL("../../bench/scenarios.mjs", import.meta.url).href;
    const { BENCH_KEY } = (await import(scenariosModule)) as { BENCH_KEY: string };
    const keys = JSON.parse(readFileSync(PIPELINES + "keys.json", "utf8")) as { keys: { hash: string }[] };
    const hash = `sha256:${createHash("sha256").update(BENCH_KEY).digest("hex")}`;
    expect(keys.keys.map((k) => k.hash)).toContain(hash);
  });
});
