/**
 * record-postgres: stores each request's record in a Postgres table, in batches, off the request
 * path. The table is created at start if missing. While Postgres is unreachable, records wait in
 * a bounded local spool file and are written once it is back; `close()` flushes everything. It
 * answers the usage API with one aggregate query over the table.
 */
import { definePlugin } from "../../core/index.js";
import { answerDigestOf, keepReplies } from "../../lib/record/answer-digest.js";
import { capturedRequest } from "../../lib/record/captured-request.js";
import { answerSinkStates } from "../../lib/record/sink-states.js";
import { usageQueries } from "../../lib/usage/report.js";
import type { RecordPostgresConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { PostgresRecordSink } from "./sink.js";
import { MAX_BATCH } from "./sql.js";

const PLUGIN = "record-postgres";

export default definePlugin<RecordPostgresConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Stores request records in Postgres (batched inserts, table migrated at start, local spool while Postgres is down)",
  configSchema,
  async create(config, env) {
    const sink = new PostgresRecordSink({
      connectionString: config.connectionString,
      table: config.table ?? "switchyard_requests",
      batchSize: Math.min(config.batchSize ?? 200, MAX_BATCH),
      flushIntervalMs: config.flushIntervalMs ?? 1000,
      retryIntervalMs: config.retryIntervalMs ?? 5000,
      spoolPath: env.resolvePath(config.spoolPath ?? "./data/record-postgres.spool.jsonl"),
      spoolMaxBytes: config.spoolMaxBytes ?? 64 * 1024 * 1024,
      connectTimeoutMs: config.connectTimeoutMs ?? 5000,
      poolSize: config.poolSize ?? 2,
      log: env.log,
    });
    await sink.start();
    const captureMaxBytes = config.captureBody ? (config.captureBody.maxBytes ?? 65_536) : undefined;
    return {
      apply(hooks) {
        if (captureMaxBytes !== undefined) keepReplies(hooks, PLUGIN);
        hooks.record.tapPromise(PLUGIN, async (record, exchange) =>
          sink.add(captureMaxBytes === undefined ? record : { ...record, request: capturedRequest(exchange.body, captureMaxBytes), answerDigest: answerDigestOf(exchange) }),
        );
        usageQueries(hooks).tapPromise(PLUGIN, (query) => sink.queryUsage(query));
        answerSinkStates(hooks, env.id, () => ({ plugin: PLUGIN, ...sink.backlog() }));
      },
      close: () => sink.close(),
    };
  },
});

export { PostgresRecordSink };
