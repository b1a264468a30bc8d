/** The shipped default pipeline (pipelines/), started in a temp dir with its records kept there. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startGateway, type TestGateway } from "./gateway.js";

const root = join(import.meta.dirname, "..", "..");

export async function startDefaultPipeline(edit?: (pipeline: any) => void): Promise<TestGateway & { recordsFile: string }> {
  const pipeline = JSON.parse(await readFile(join(root, "pipelines/default.pipeline.json"), "utf8"));
  pipeline.$schema = undefined;
  const record = pipeline.steps.find((s: { use: string }) => s.use === "record-jsonl");
  record.config.path = "./data/records.jsonl";
  record.config.flushIntervalMs = 20;
  edit?.(pipeline);
  const gateway = await startGateway({
    "default.pipeline.json": JSON.stringify(pipeline),
    "keys.json": await readFile(join(root, "pipelines/keys.json"), "utf8"),
    "pricing.json": await readFile(join(root, "pipelines/pricing.json"), "utf8"),
  });
  return { ...gateway, recordsFile: join(gateway.dir, "data/records.jsonl") };
}

export const DEMO_KEY = "sk-switchyard-demo";
