/**
 * count-tokens: answers routes with `"endpoint": "count-tokens"` (Anthropic's
 * POST /v1/messages/count_tokens). The request goes to the first backend of its model whose
 * provider can count, prepared exactly as a model request would be (passed through, or
 * translated), and the count comes back in the client's format. A count is no sample of how a
 * backend generates, so selectors, health and latency steps see nothing of it; a failed count
 * moves on to the next counting backend only on the failures `attempts.on` names, and no backend
 * is asked twice.
 */
import { definePlugin, GatewayError, type Exchange, type EndpointIo, type TokenCount } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "count-tokens";

export default definePlugin({
  kind: "step",
  name: PLUGIN,
  description: "Answers count-tokens routes: the input tokens of a model request, asked of the first backend of its model that can count.",
  configSchema,
  endpoints: {
    "count-tokens": { description: "a model request's input token count, without generating", body: "json" },
  },
  create() {
    return {
      apply(hooks) {
        hooks.endpoint.for("count-tokens").tapPromise(PLUGIN, async (exchange, io) => ({ status: 200, body: await countTokens(exchange, io) }));
      },
    };
  },
});

async function countTokens(x: Exchange, io: EndpointIo): Promise<unknown> {
  const p = io.pipeline;
  const model = x.model;
  if (model === undefined || model === "") throw GatewayError.invalidRequest("the request names no model", "model", "missing_model");
  const render = x.format.renderTokenCount;
  if (!render) throw new GatewayError({ status: 404, type: "not_found", code: "not_found", message: `the ${x.route.format} format has no token count endpoint` });
  const candidates = p.models.attemptsFor(model);
  if (candidates.length === 0) throw GatewayError.modelNotFound(model);
  const counting = candidates.filter((a) => a.backend.provider.countTokens !== undefined).slice(0, p.attempts.maxAttempts);
  if (counting.length === 0) {
    throw new GatewayError({
      status: 501, type: "unavailable", code: "count_tokens_unavailable", source: PLUGIN,
      message: `no backend of model "${model}" can count tokens`,
      // Asking again will not help: the SDKs that retry 5xx honour this.
      headers: { "x-should-retry": "false" },
    });
  }
  let count: TokenCount | undefined;
  await io.walkAttempts(counting, {
    maxAttempts: counting.length,
    sampled: false,
    prepare(attempt) {
      const { backendFormat, body } = io.prepareRequest(attempt);
      return async (outcome) => {
        count = await attempt.backend.provider.countTokens!({
          format: backendFormat, model: attempt.model, body, stream: false, end: x.end, requestId: x.id,
          headersTimeoutMs: p.timeouts.firstByteMs, bodyTimeoutMs: p.timeouts.idleMs,
        });
        outcome.status = 200;
        x.backend = attempt.backend.id;
        x.upstreamModel = attempt.model;
      };
    },
  });
  return render(count!);
}
