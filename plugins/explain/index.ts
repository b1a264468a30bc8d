/**
 * explain: answers routes with `"endpoint": "explain"` (admin keys only) with a dry run of the
 * request in the body through this pipeline (lib/explain), the same as `switchyard explain`
 * prints, as JSON plus the human text. Nothing is sent upstream, nothing reserved.
 */
import { definePlugin, GatewayError, isObject, type PipelineHooks } from "../../core/index.js";
import { explainRequest, type ExplainInput } from "../../lib/explain/explain-request.js";
import { renderExplanation } from "../../lib/explain/render.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "explain";

export default definePlugin({
  kind: "step",
  name: PLUGIN,
  description: "Answers explain routes (admin keys only): a dry run of a request through this pipeline, with nothing sent upstream and nothing reserved.",
  configSchema,
  endpoints: {
    explain: { description: "a dry run of { path?, method?, headers?, body, tenant? } through this pipeline, for operators", body: "json", admin: true },
  },
  create(_config, env) {
    return {
      apply(hooks: PipelineHooks) {
        hooks.endpoint.for("explain").tapPromise(PLUGIN, async (exchange, io) => {
          const input = readInput(exchange.body);
          const explanation = await explainRequest({ pipeline: io.pipeline, hooks, formats: env.formats, prepareRequest: io.prepareRequest }, input);
          return { status: 200, body: { ...explanation, text: renderExplanation(explanation) } };
        });
      },
    };
  },
});

function readInput(body: Record<string, unknown>): ExplainInput {
  const invalid = (field: string, what: string) => GatewayError.invalidRequest(`${field} must be ${what}`, field, "invalid_explain_request");
  if (!isObject(body.body)) throw invalid("body", "the request body to explain, a JSON object");
  for (const field of ["path", "method", "tenant"] as const) if (body[field] !== undefined && typeof body[field] !== "string") throw invalid(field, "a string");
  if (body.headers !== undefined && !(isObject(body.headers) && Object.values(body.headers).every((v) => typeof v === "string"))) throw invalid("headers", "an object of strings");
  return { body: body.body, path: body.path as string | undefined, method: body.method as string | undefined, tenant: body.tenant as string | undefined, headers: body.headers as Record<string, string> | undefined };
}
