/**
 * metrics-prometheus: counts what every request did into the process-wide Prometheus registry
 * (registry.ts) and serves it in Prometheus' text format on routes of kind `metrics` (admin keys
 * only) or `metrics-public` (whatever the pipeline's auth lets through). On the request path it
 * only counts a request in flight at auth; everything else is read from the request's record,
 * which the core hands to record taps after the response, off the hot path. Backend health, store
 * health and record-sink backlogs are asked at scrape time, from every live pipeline with the step.
 */
import type { ServerResponse } from "node:http";
import { definePlugin, type Exchange, type PipelineHooks, type RequestRecord, type StateStore } from "../../core/index.js";
import { askBackendStates } from "../../lib/health/report.js";
import { askSinkStates } from "../../lib/record/sink-states.js";
import { askGatewayControl } from "../../lib/operate/gateway-control.js";
import { askWebSocketSessions } from "../../lib/websocket/sessions.js";
import type { MetricsPrometheusConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { finishReasonLabel } from "./finish-reasons.js";
import * as m from "./registry.js";

const PLUGIN = "metrics-prometheus";

/** Error codes of the refusals counted in switchyard_rejections_total (ratelimit's and budget's). */
const REJECTION_CODES = new Set(["rate_limit_exceeded", "concurrency_limit_exceeded", "request_too_large", "budget_exceeded"]);
/** The model label of every name the pipeline does not list, and of requests that named none. */
const OTHER_MODEL = "other";
const NO_MODEL = "none";
const NO_BACKEND = "none";

/** A pipeline whose metrics step is live: what a scrape reads from it. */
interface LivePipeline {
  pipeline: string;
  hooks: PipelineHooks;
  store: StateStore;
  /** Requests (and streams among them) counted at auth and not yet recorded. */
  inFlight: { requests: number; streams: number };
}
const live = new Set<LivePipeline>();

const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

export default definePlugin<MetricsPrometheusConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Prometheus metrics (requests, latency, tokens, cost, attempts, health, stores, sinks) for every pipeline with the step, served on metrics routes.",
  configSchema,
  endpoints: {
    metrics: { description: "Prometheus metrics of the whole process, for an admin key (a scraper's bearer token)", body: "handler", admin: true },
    "metrics-public": { description: "Prometheus metrics of the whole process, for whoever the pipeline's auth lets through (a pipeline of its own with no auth step)", body: "handler" },
  },
  create(config, env) {
    m.collectProcessMetrics();
    const pipeline = env.pipelineId;
    const known = new Set(config.models ?? []);
    for (const backend of env.backends.values()) {
      for (const model of backend.models) if (!model.includes("*")) known.add(model);
      for (const model of Object.keys(backend.modelMap)) known.add(model);
    }
    const modelLabel = (model: string | undefined) => (model === undefined ? NO_MODEL : known.has(model) ? model : OTHER_MODEL);
    const inFlight = { requests: 0, streams: 0 };
    /** Exchanges counted in flight -> whether they were counted as streams too. */
    const counted = new WeakMap<Exchange, boolean>();
    let entry: LivePipeline | undefined;

    const observe = (record: RequestRecord) => {
      const model = modelLabel(record.model);
      const backend = record.backend ?? NO_BACKEND;
      const status = statusClass(record.status);
      m.requests.inc([pipeline, record.route, backend, model, status]);
      m.requestDuration.observe([pipeline, record.route, status], record.latencyMs / 1000);
      if (record.finishReason !== undefined) m.finishReasons.inc([pipeline, record.route, finishReasonLabel(record.finishReason)]);
      if (record.ttfbMs !== undefined) m.timeToFirstByte.observe([pipeline, record.route, String(record.stream)], record.ttfbMs / 1000);
      const usage = record.usage;
      if (usage) {
        const add = (kind: string, n: number | undefined) => {
          if (n) m.tokens.inc([pipeline, backend, model, kind], n);
        };
        add("input", usage.inputTokens);
        add("output", usage.outputTokens);
        add("cached_read", usage.cachedReadTokens);
        add("cache_write", usage.cacheWriteTokens);
        add("reasoning", usage.reasoningTokens);
        if (record.costUsd === null) m.unpriced.inc([pipeline, backend, model]);
      }
      if (record.costUsd) m.costUsd.inc([pipeline, backend, model], record.costUsd);
      if (record.error && REJECTION_CODES.has(record.error.code)) m.rejections.inc([pipeline, record.error.code]);
      const tried = new Set<string>();
      for (const a of record.attempts) {
        const outcome = a.failure ?? (a.errorCode === "client_closed_request" ? "client_closed" : "ok");
        m.attempts.inc([pipeline, a.backend, outcome]);
        m.upstreamDuration.observe([pipeline, a.backend, outcome], a.latencyMs / 1000);
        if (a.ttfbMs !== undefined) m.upstreamTimeToFirstByte.observe([pipeline, a.backend], a.ttfbMs / 1000);
        if (tried.size > 0) (tried.has(a.backend) ? m.retries : m.fallbacks).inc([pipeline, a.backend]);
        tried.add(a.backend);
      }
    };

    return {
      apply(hooks) {
        entry = { pipeline, hooks, store: env.store, inFlight };
        live.add(entry);
        hooks.auth.tap(PLUGIN, (x) => {
          // Admin calls (scrapes among them) leave no record, so they would never leave the count.
          if (x.route.admin) return undefined;
          inFlight.requests++;
          if (x.stream) inFlight.streams++;
          counted.set(x, x.stream);
          return undefined;
        });
        hooks.record.tap(PLUGIN, (record, x) => {
          const stream = counted.get(x);
          if (stream !== undefined) {
            counted.delete(x);
            inFlight.requests--;
            if (stream) inFlight.streams--;
          }
          observe(record);
        });
        const serve = async (x: Exchange, res: ServerResponse) => {
          const text = await scrape();
          res.writeHead((x.status = 200), { "content-type": m.registry.contentType, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
          x.headersSent = true;
          res.end(text);
          return "written" as const;
        };
        hooks.endpoint.for("metrics").tapPromise(PLUGIN, (x, io) => serve(x, io.res));
        hooks.endpoint.for("metrics-public").tapPromise(PLUGIN, (x, io) => serve(x, io.res));
      },
      async close() {
        if (entry) live.delete(entry);
      },
    };
  },
});

let reading: Promise<string> | undefined;

/** One reading at a time: concurrent scrapes share it, so one's gauge resets never cut into another's values. */
function scrape(): Promise<string> {
  reading ??= readAll().finally(() => {
    reading = undefined;
  });
  return reading;
}

async function readAll(): Promise<string> {
  for (const gauge of m.SCRAPE_TIME_GAUGES) gauge.reset();
  await Promise.all([...live].map(readPipeline));
  await readLastReload();
  return m.registry.metrics();
}

/** The gateway's last load of its pipeline files, from any live pipeline (they all answer for the one process). */
async function readLastReload(): Promise<void> {
  const [first] = live;
  const reload = first ? (await askGatewayControl(first.hooks))?.lastReload() : undefined;
  if (reload === undefined) return;
  m.lastReloadOk.set(reload.ok ? 1 : 0);
  m.lastReloadErrors.set(reload.errors.length);
  m.lastReloadTime.set(Date.parse(reload.at) / 1000);
}

async function readPipeline({ pipeline, hooks, store, inFlight }: LivePipeline): Promise<void> {
  m.inFlight.labels(pipeline).set(inFlight.requests);
  m.streamsOpen.labels(pipeline).set(inFlight.streams);
  const status = store.status();
  m.storeUp.labels(pipeline, status.kind).set(status.health === "ok" ? 1 : 0);
  const [backends, sinks, sockets] = await Promise.all([askBackendStates(hooks), askSinkStates(hooks), askWebSocketSessions(hooks)]);
  for (const [step, counts] of sockets) {
    m.websocketsOpen.labels(pipeline, step).set(counts.open);
    m.websocketsAccepted.labels(pipeline, step).set(counts.accepted);
    m.websocketBytes.labels(pipeline, step, "up").set(counts.bytesUp);
    m.websocketBytes.labels(pipeline, step, "down").set(counts.bytesDown);
  }
  for (const [backend, state] of backends) {
    if (state.breaker) {
      for (const s of ["closed", "open", "half-open"] as const) m.circuitState.labels(pipeline, backend, s).set(state.breaker.state === s ? 1 : 0);
      m.rateLimited.labels(pipeline, backend).set(state.breaker.rateLimited ? 1 : 0);
    }
    if (state.probe) m.probeHealthy.labels(pipeline, backend).set(state.probe.healthy ? 1 : 0);
    if (state.mcp) {
      m.mcpServerUp.labels(pipeline, backend).set(state.mcp.up ? 1 : 0);
      m.mcpLeftOut.labels(pipeline, backend).set(state.mcp.leftOutOfLists);
    }
  }
  for (const [sink, state] of sinks) {
    m.sinkPending.labels(pipeline, sink, state.plugin).set(state.pendingRecords);
    if (state.spooledBytes !== undefined) m.sinkSpool.labels(pipeline, sink, state.plugin).set(state.spooledBytes);
  }
}
