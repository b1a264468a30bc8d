/**
 * The core's own endpoint, `generate`: a model request. The plan (every backend serving the
 * model, in file order, then the selectors) and the attempt loop, which writes the reply.
 */
import type { ServerResponse } from "node:http";
import { GatewayError } from "../contract/errors.js";
import type { Exchange } from "../contract/exchange.js";
import { runAttempts } from "./attempts.js";
import type { CompiledPipeline } from "./compile.js";

export async function generate(p: CompiledPipeline, x: Exchange, res: ServerResponse): Promise<void> {
  if (x.model === undefined || x.model === "") throw GatewayError.invalidRequest("the request names no model", "model", "missing_model");
  const candidates = p.models.attemptsFor(x.model);
  if (candidates.length === 0) throw GatewayError.modelNotFound(x.model);
  const attempts = await p.hooks.plan.promise(candidates, x);
  if (attempts.length === 0) throw nothingAvailable(x, x.model);
  const policy = x.stream ? p.hooks.streamPolicy.call({ idleTimeoutMs: p.timeouts.idleMs, relay: undefined }, x) : undefined;
  if (policy && policy.relay === undefined) throw GatewayError.invalidRequest(`pipeline ${p.id} does not stream: add a stream-sse step`, "stream", "streaming_disabled");
  return runAttempts(p, x, attempts, res, policy);
}

/** The plan came back empty: 503, or 429 when every backend held back is rate-limited, with a retry-after when a step knows one. */
function nothingAvailable(x: Exchange, model: string): GatewayError {
  const held = x.heldBack;
  if (held?.rateLimited) {
    return new GatewayError({ status: 429, type: "rate_limit", code: "backends_rate_limited", message: `every backend for model "${model}" is rate-limited for now`, retryAfterMs: held.retryAfterMs });
  }
  return new GatewayError({ status: 503, type: "unavailable", code: "no_backend_available", message: `no backend is available for model "${model}"`, retryAfterMs: held?.retryAfterMs });
}
