/**
 * usage-api: answers routes with `"endpoint": "usage"`, an admin route that sums the stored
 * request records (GET ?from=ISO&to=ISO&group_by=tenant|key|model|backend|day). The pipeline's
 * record sinks answer the usage question (lib/usage/report.ts: record-jsonl, record-postgres); the first
 * that reports wins, in file order. Only callers the auth step marks admin get here.
 */
import { definePlugin, GatewayError } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { usageQueries } from "../../lib/usage/report.js";
import { parseUsageQuery, renderUsageReport } from "./usage-query.js";

const PLUGIN = "usage-api";

export default definePlugin({
  kind: "step",
  name: PLUGIN,
  description: "Answers usage routes (admin keys only): requests, tokens and cost summed from the pipeline's record sink by tenant, key, model, backend or day.",
  configSchema,
  endpoints: {
    usage: { description: "sums of the stored request records, for operators", body: "handler", admin: true },
  },
  create(_config, env) {
    return {
      apply(hooks) {
        hooks.endpoint.for("usage").tapPromise(PLUGIN, async (exchange) => {
          const query = parseUsageQuery(exchange.inbound.query, Date.now());
          const report = await usageQueries(hooks).promise(query, exchange);
          if (!report) {
            throw new GatewayError({
              status: 501, type: "unavailable", code: "usage_unavailable", source: PLUGIN,
              message: `pipeline ${env.pipelineId} has no record sink that answers usage queries (record-jsonl, record-postgres)`,
            });
          }
          return { status: 200, body: renderUsageReport(query, report) };
        });
      },
    };
  },
});
