/**
 * Token counting (routes with endpoint `count-tokens`, like Anthropic's /v1/messages/count_tokens):
 * the request goes to the first backend of its model whose provider can count, prepared as a
 * generate request would be (passed through, or translated), and the count comes back in the
 * client's format. It is not an attempt of the model-request loop: selectors, health and latency
 * steps see nothing of it (a count is no sample of how a backend generates), and a failed count
 * moves on to the next counting backend only on the failures `attempts.on` names.
 */
import type { ServerResponse } from "node:http";
import { fallbackAllowed, prepareRequest } from "./attempts.js";
import { noBackendFor, type CompiledPipeline } from "./compile.js";
import { GatewayError, asGatewayError } from "../contract/errors.js";
import type { AttemptOutcome, Exchange } from "../contract/exchange.js";
import { writeJson } from "./respond.js";

export async function answerTokenCount(p: CompiledPipeline, x: Exchange, res: ServerResponse, model: string): Promise<void> {
  if (!x.format.renderTokenCount) {
    throw new GatewayError({ status: 404, type: "not_found", code: "not_found", message: `the ${x.route.format} format has no token count endpoint` });
  }
  const candidates = p.models.attemptsFor(model);
  if (candidates.length === 0) throw noBackendFor(model);
  const counting = candidates.filter((a) => a.backend.provider.countTokens !== undefined).slice(0, p.attempts.maxAttempts);
  if (counting.length === 0) {
    throw new GatewayError({
      status: 501, type: "unavailable", code: "count_tokens_unavailable", source: "core",
      message: `no backend of model "${model}" can count tokens`,
      // Asking again will not help: the SDKs that retry 5xx honour this.
      headers: { "x-should-retry": "false" },
    });
  }
  for (let i = 0; ; i++) {
    const attempt = counting[i]!;
    const { backendFormat, body } = prepareRequest(p, x, attempt);
    const outcome: AttemptOutcome = { backend: attempt.backend.id, model: attempt.model, latencyMs: 0 };
    x.attempts.push(outcome);
    const sentAt = performance.now();
    try {
      const count = await attempt.backend.provider.countTokens!({
        format: backendFormat, model: attempt.model, body, stream: false, signal: x.signal, requestId: x.id,
        headersTimeoutMs: p.timeouts.firstByteMs, bodyTimeoutMs: p.timeouts.idleMs,
      });
      outcome.status = 200;
      outcome.latencyMs = performance.now() - sentAt;
      x.backend = attempt.backend.id;
      x.upstreamModel = attempt.model;
      return writeJson(x, res, 200, JSON.stringify(x.format.renderTokenCount(count)));
    } catch (err) {
      outcome.latencyMs = performance.now() - sentAt;
      const reason: unknown = x.signal.reason;
      if (x.signal.aborted && reason instanceof GatewayError) throw reason;
      const failure = asGatewayError(err, "provider");
      outcome.failure = failure.failure;
      outcome.errorCode = failure.code;
      outcome.status = failure.upstreamStatus;
      if (i === counting.length - 1 || !fallbackAllowed(failure, p.attempts.on)) throw failure;
    }
  }
}
