/**
 * record-jsonl: one JSON line per finished request, appended to a file in batches. The record is
 * built by the core (no prompt text, no keys); this step only serialises and stores it, and reads
 * it back to answer the usage API.
 */
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { definePlugin } from "../../core/index.js";
import { answerDigestOf, keepReplies } from "../../lib/record/answer-digest.js";
import { capturedRequest } from "../../lib/record/captured-request.js";
import { answerSinkStates } from "../../lib/record/sink-states.js";
import { usageQueries } from "../../lib/usage/report.js";
import type { RecordJsonlConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { JsonlBatcher } from "./jsonl-batcher.js";
import { scanUsage } from "./usage-scan.js";

const PLUGIN = "record-jsonl";

export default definePlugin<RecordJsonlConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Appends one JSON line per finished request to a file, in batches; flushes everything on shutdown.",
  configSchema,
  async create(config, env) {
    const path = env.resolvePath(config.path);
    const log = env.log.child({ step: env.id, plugin: PLUGIN });
    let file;
    try {
      await mkdir(dirname(path), { recursive: true });
      // One append-mode handle for the step's life: O_APPEND puts every batch at the end, even
      // when another process appends to the same file. Readable too, for usage queries.
      file = await open(path, "a+");
    } catch (err) {
      throw new Error(`${PLUGIN}: cannot open ${path} for appending (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    const handle = file;
    const captureMaxBytes = config.captureBody ? (config.captureBody.maxBytes ?? 65_536) : undefined;
    const batcher = new JsonlBatcher({
      write: (text) => handle.appendFile(text),
      batchSize: config.batchSize ?? 100,
      flushIntervalMs: config.flushIntervalMs ?? 1000,
      maxPendingRecords: config.maxPendingRecords ?? 10_000,
      log,
      target: path,
    });

    return {
      apply(hooks) {
        if (captureMaxBytes !== undefined) keepReplies(hooks, PLUGIN);
        hooks.record.tap(PLUGIN, (record, exchange) => {
          let line: string;
          try {
            line = JSON.stringify(captureMaxBytes === undefined ? record : { ...record, request: capturedRequest(exchange.body, captureMaxBytes), answerDigest: answerDigestOf(exchange) }) + "\n";
          } catch (err) {
            log.error({ id: record.id, error: (err as Error).message }, "record not serialisable; skipped");
            return;
          }
          batcher.add(line);
        });
        usageQueries(hooks).tapPromise(PLUGIN, async (query, exchange) => {
          const { taken: size, waiting } = await batcher.betweenWrites(async () => (await handle.stat()).size);
          return scanUsage({ handle, size, waiting, query, signal: exchange.signal, log, target: path });
        });
        answerSinkStates(hooks, env.id, () => ({ plugin: PLUGIN, pendingRecords: batcher.pendingRecords }));
      },
      async close() {
        await batcher.close();
        await handle.close();
      },
    };
  },
});
