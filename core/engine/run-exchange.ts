/**
 * One request through one pipeline: auth -> validate -> plan -> attempt loop -> settle -> record.
 * Admin routes (usage): auth -> admin check -> queryUsage -> settle, and a log line instead of a record.
 * Token counts (count-tokens): auth -> validate -> the first backend that can count (count-tokens.ts).
 * Every failure ends here as a GatewayError rendered in the client's format; nothing escapes.
 */
import type { ServerResponse } from "node:http";
import type { CompiledPipeline } from "./compile.js";
import { noBackendFor } from "./compile.js";
import { runAttempts } from "./attempts.js";
import { answerTokenCount } from "./count-tokens.js";
import { GatewayError, asGatewayError } from "../contract/errors.js";
import type { Exchange, Reply } from "../contract/exchange.js";
import type { StreamPolicy } from "../contract/hooks.js";
import type { RequestRecord } from "../contract/record.js";
import { writeError, writeJson } from "./respond.js";
import { redactSecrets } from "../contract/log.js";
import { parseUsageQuery, renderUsageReport } from "../../lib/usage/query.js";

const STREAMING_DISABLED: StreamPolicy = { enabled: false, idleTimeoutMs: 120_000, keepAliveMs: 0 };

/**
 * What a request does once auth and validate let it through: plan and run its attempts, writing
 * the reply to the client (the exchange's signal fires when the client leaves or time runs out).
 */
export type ServeRequest = () => Promise<void>;

/** Runs one exchange; `serve` is the model-request path unless another is given (http routes). */
export async function runExchange(p: CompiledPipeline, x: Exchange, res: ServerResponse, serve?: ServeRequest): Promise<void> {
  let authed = false;
  try {
    const denied = await p.hooks.auth.promise(x);
    if (denied) return writeReply(x, res, denied);
    authed = true;
    // Fail closed: a pipeline without an auth step, or with one that knows no roles, must not open an admin route.
    if (x.route.admin && x.role !== "admin") {
      throw new GatewayError({ status: 403, type: "permission", code: "admin_key_required", message: "this route needs an admin API key", source: "core" });
    }
    if (x.route.endpoint === "usage") return await answerUsage(p, x, res);
    const rejected = await p.hooks.validate.promise(x);
    if (rejected) return writeReply(x, res, rejected);
    await (serve ? serve() : serveModelRequest(p, x, res));
  } catch (err) {
    const failure = asGatewayError(err, "core");
    if (failure.type === "internal") p.log.error({ request: x.id, source: failure.source, err: describeCause(failure) }, "request failed");
    if (failure.code === "client_closed_request") {
      x.error = failure;
      x.status = 499;
    } else if (!x.headersSent) {
      writeError(x, res, failure);
    }
  } finally {
    if (authed) await settle(p, x);
    // Admin calls are not model requests: as records they would count in the very usage they report.
    if (x.route.admin) logAdminCall(p, x);
    else scheduleRecord(p, x);
  }
}

async function answerUsage(p: CompiledPipeline, x: Exchange, res: ServerResponse): Promise<void> {
  const query = parseUsageQuery(x.inbound.query, Date.now());
  const report = await p.hooks.queryUsage.promise(query, x);
  if (!report) {
    throw new GatewayError({
      status: 501,
      type: "unavailable",
      code: "usage_unavailable",
      message: `pipeline ${p.id} has no record sink that answers usage queries (record-jsonl, record-postgres)`,
      source: "core",
    });
  }
  writeJson(x, res, 200, JSON.stringify(renderUsageReport(query, report)));
}

function logAdminCall(p: CompiledPipeline, x: Exchange): void {
  const entry = { request: x.id, route: x.route.path, query: x.inbound.query, tenant: x.tenant, keyId: x.keyId, status: x.status, error: x.error?.code };
  if ((x.status ?? 500) < 400) p.log.info(entry, "admin call");
  else p.log.warn(entry, "admin call refused or failed");
}

async function serveModelRequest(p: CompiledPipeline, x: Exchange, res: ServerResponse): Promise<void> {
  if (x.route.endpoint === "models") return listModels(p, x, res);
  if (x.model === undefined || x.model === "") throw GatewayError.invalidRequest("the request names no model", "model", "missing_model");
  if (x.route.endpoint === "count-tokens") return answerTokenCount(p, x, res, x.model);

  const candidates = p.models.attemptsFor(x.model);
  if (candidates.length === 0) throw noBackendFor(x.model);
  const attempts = await p.hooks.plan.promise(candidates, x);
  if (attempts.length === 0) throw nothingAvailable(x, x.model);
  let policy: StreamPolicy | undefined;
  if (x.stream) {
    policy = p.hooks.streamPolicy.call({ ...STREAMING_DISABLED }, x);
    if (!policy.enabled) throw GatewayError.invalidRequest(`pipeline ${p.id} does not stream: add a stream-sse step`, "stream", "streaming_disabled");
  }
  await runAttempts(p, x, attempts, res, policy);
}

/** The plan came back empty: 503, or 429 when every backend held back is rate-limited, with a retry-after when a step knows one. */
function nothingAvailable(x: Exchange, model: string): GatewayError {
  const held = x.heldBack;
  if (held?.rateLimited) {
    return new GatewayError({ status: 429, type: "rate_limit", code: "backends_rate_limited", message: `every backend for model "${model}" is rate-limited for now`, retryAfterMs: held.retryAfterMs });
  }
  return new GatewayError({ status: 503, type: "unavailable", code: "no_backend_available", message: `no backend is available for model "${model}"`, retryAfterMs: held?.retryAfterMs });
}

function writeReply(x: Exchange, res: ServerResponse, reply: Reply): void {
  if (reply instanceof GatewayError) return writeError(x, res, reply);
  writeJson(x, res, reply.status, JSON.stringify(reply.body), reply.headers);
}

function listModels(p: CompiledPipeline, x: Exchange, res: ServerResponse): void {
  if (!x.format.renderModels) throw new GatewayError({ status: 404, type: "not_found", code: "not_found", message: `the ${x.route.format} format has no model listing` });
  const seen = new Set<string>();
  const models = p.models.listed().filter((m) => !seen.has(m.model) && seen.add(m.model)).map((m) => ({ id: m.model, ownedBy: m.backend }));
  writeJson(x, res, 200, JSON.stringify(x.format.renderModels(models)));
}

async function settle(p: CompiledPipeline, x: Exchange): Promise<void> {
  try {
    await p.hooks.settle.promise(x);
  } catch (err) {
    p.log.warn({ request: x.id, err: String(err) }, "settle failed");
  }
}

/**
 * Records are handed to the sinks off the hot path, in batches: one setImmediate per turn of the
 * event loop for every request that finished in it, not a timer and promise chain per request.
 */
let recordQueue: { p: CompiledPipeline; x: Exchange; record: RequestRecord }[] = [];
/** Batches handed to the sinks and not yet settled, so shutdown can wait for them before sinks flush. */
const pendingRecords = new Set<Promise<void>>();
let flushQueued: Promise<void> | undefined;

function scheduleRecord(p: CompiledPipeline, x: Exchange): void {
  if (p.hooks.record.taps.length === 0) return; // no sink: nothing to build
  recordQueue.push({ p, x, record: toRecord(p, x) });
  flushQueued ??= new Promise<void>((resolve) => setImmediate(() => resolve(flushRecords())));
}

function flushRecords(): void {
  flushQueued = undefined;
  const batch = recordQueue;
  recordQueue = [];
  const done: Promise<void> = Promise.all(batch.map(({ p, x, record }) => recordOne(p, x, record))).then(() => {
    pendingRecords.delete(done);
  });
  pendingRecords.add(done);
}

/** One record to the sinks; a failing sink (even one that throws at once) never fails the batch. */
function recordOne(p: CompiledPipeline, x: Exchange, record: RequestRecord): Promise<void> {
  const failed = (err: unknown) => p.log.warn({ request: x.id, err: String(err) }, "record failed");
  try {
    return p.hooks.record.promise(record, x).catch(failed);
  } catch (err) {
    failed(err);
    return Promise.resolve();
  }
}

export async function recordsWritten(): Promise<void> {
  while (flushQueued !== undefined || pendingRecords.size > 0) {
    if (flushQueued) await flushQueued;
    await Promise.allSettled([...pendingRecords]);
  }
}

export function toRecord(p: CompiledPipeline, x: Exchange): RequestRecord {
  const record: RequestRecord = {
    id: x.id,
    time: new Date(x.startedAt).toISOString(),
    pipeline: p.id,
    route: x.route.path,
    format: x.route.format,
    stream: x.stream,
    status: x.status ?? 500,
    latencyMs: round(performance.now() - x.startedHr),
    costUsd: x.costUsd ?? null,
    attempts: x.attempts.map((a) => ({ ...a, latencyMs: round(a.latencyMs), ...(a.ttfbMs === undefined ? {} : { ttfbMs: round(a.ttfbMs) }) })),
  };
  if (x.tenant !== undefined) record.tenant = x.tenant;
  if (x.keyId !== undefined) record.keyId = x.keyId;
  if (x.backend !== undefined) record.backend = x.backend;
  if (x.model !== undefined) record.model = x.model;
  if (x.upstreamModel !== undefined) record.upstreamModel = x.upstreamModel;
  if (x.ttfbMs !== undefined) record.ttfbMs = round(x.ttfbMs);
  if (x.usage !== undefined) record.usage = x.usage;
  if (x.error !== undefined) record.error = { type: x.error.type, code: x.error.code, message: x.error.message };
  if (x.notes.length > 0) record.notes = [...x.notes];
  return record;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function describeCause(err: GatewayError): string {
  const cause = (err as { cause?: unknown }).cause;
  return redactSecrets(cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause ?? err.message));
}
