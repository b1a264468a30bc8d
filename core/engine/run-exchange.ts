/**
 * One request through one pipeline: auth -> validate -> endpoint -> settle -> record. The
 * endpoint is the core's own model loop for `generate` routes, or the step that answers the
 * route's kind (`hooks.endpoint`). Admin endpoints check the caller's role, skip validate, and
 * leave a log line instead of a record. Every failure ends here as a GatewayError rendered in the
 * client's format; nothing escapes.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { GENERATE_ENDPOINT, type EndpointIo } from "../contract/endpoint.js";
import { GatewayError, asGatewayError } from "../contract/errors.js";
import type { Exchange } from "../contract/exchange.js";
import { redactSecrets } from "../contract/log.js";
import { prepareRequest, walkAttempts } from "./attempts.js";
import type { CompiledPipeline } from "./compile.js";
import { generate } from "./generate.js";
import { upgradeOf } from "../serve/upgrade.js";
import type { RecordQueue } from "./records.js";
import { applyExchangeHeaders, writeAnswer, writeError } from "./respond.js";

export async function runExchange(p: CompiledPipeline, x: Exchange, req: IncomingMessage, res: ServerResponse, records: RecordQueue, draining: AbortSignal): Promise<void> {
  let authed = false;
  try {
    const denied = await p.hooks.auth.promise(x);
    if (denied) return writeAnswer(x, res, denied);
    authed = true;
    if (x.route.admin) {
      // Fail closed: a pipeline without an auth step, or with one that knows no roles, must not open an admin route.
      if (x.role !== "admin") throw new GatewayError({ status: 403, type: "permission", code: "admin_key_required", message: "this route needs an admin API key", source: "core" });
    } else {
      const rejected = await p.hooks.validate.promise(x);
      if (rejected) return writeAnswer(x, res, rejected);
    }
    if (x.route.endpoint === GENERATE_ENDPOINT) await generate(p, x, res);
    else await answerEndpoint(p, x, req, res, draining);
  } catch (err) {
    const failure = asGatewayError(err, "core");
    if (failure.type === "internal") p.log.error({ request: x.id, source: failure.source, err: describeCause(failure) }, "request failed");
    if (failure.code === "client_closed_request") {
      x.error = failure;
      x.status = 499;
    } else if (!x.headersSent) {
      writeError(x, res, failure);
    } else if (x.continuing) {
      // A broken stream no attempt could continue: its error event goes out now.
      x.error = failure;
      x.continuing.end(failure);
    }
  } finally {
    if (authed) await settle(p, x);
    // Admin calls are not model requests: as records they would count in the very usage they report.
    if (x.route.admin) logAdminCall(p, x);
    else records.add(p, x);
  }
}

async function answerEndpoint(p: CompiledPipeline, x: Exchange, req: IncomingMessage, res: ServerResponse, draining: AbortSignal): Promise<void> {
  const io: EndpointIo = {
    req, res, upgrade: upgradeOf(req), draining, pipeline: p, walkAttempts: (attempts, driver) => walkAttempts(p, x, attempts, driver),
    prepareRequest: (attempt, exchange = x) => prepareRequest(p, exchange, attempt), applyExchangeHeaders: () => applyExchangeHeaders(x, res),
  };
  const result = await p.hooks.endpoint.get(x.route.endpoint)?.promise(x, io);
  if (result === undefined) {
    // The steps that serve this kind all passed it over (their `when` did not match).
    throw new GatewayError({ status: 404, type: "not_found", code: "no_endpoint", message: `no step of pipeline ${p.id} answers this ${x.route.endpoint} request` });
  }
  if (result !== "written") writeAnswer(x, res, result);
}

function logAdminCall(p: CompiledPipeline, x: Exchange): void {
  const entry = { request: x.id, route: x.route.path, query: x.inbound.query, tenant: x.tenant, keyId: x.keyId, status: x.status, error: x.error?.code };
  if ((x.status ?? 500) < 400) p.log.info(entry, "admin call");
  else p.log.warn(entry, "admin call refused or failed");
}

function settle(p: CompiledPipeline, x: Exchange): Promise<void> {
  return p.hooks.settle.promise(x).catch((err: unknown) => p.log.warn({ request: x.id, err: String(err) }, "settle failed"));
}

function describeCause(err: GatewayError): string {
  const cause = (err as { cause?: unknown }).cause;
  return redactSecrets(cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause ?? err.message));
}
