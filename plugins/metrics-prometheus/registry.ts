/**
 * The one Prometheus registry of the process and every metric in it. Each pipeline with a
 * metrics step writes into the same metrics under its own `pipeline` label, so one scrape of any
 * metrics route shows the whole process. Label values come only from the pipeline files
 * (pipeline, route, backend and model names the operator wrote) or from small closed sets
 * (status class, outcome, token kind): no request can add a series.
 */
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { SeriesCounter, SeriesHistogram } from "./series.js";

export const registry = new Registry();

let processMetrics = false;
/**
 * CPU, memory, heap, event-loop lag and GC of the gateway process (switchyard_process_cpu_seconds_total…),
 * from the first metrics step on: every process imports every plugin module, and one without the
 * step should not pay for an event-loop monitor.
 */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry, prefix: "switchyard_" });
}

const registers = [registry];
/** Seconds: a cached reply in milliseconds up to a long generation or a stream of minutes. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export const requests = new SeriesCounter(
  "switchyard_requests_total",
  "Finished requests (refused and failed ones too) by pipeline, route, serving backend (none when no backend answered), model asked for (other for names the pipeline does not list) and status class.",
  ["pipeline", "route", "backend", "model", "status_class"],
  registry,
);
export const requestDuration = new SeriesHistogram(
  "switchyard_request_duration_seconds",
  "Time from a request's arrival to its last byte written (its record), by pipeline, route and status class.",
  ["pipeline", "route", "status_class"],
  DURATION_BUCKETS,
  registry,
);
export const timeToFirstByte = new SeriesHistogram(
  "switchyard_time_to_first_byte_seconds",
  "Time from a request's arrival to the first byte of its response (a stream's headers and first event), by pipeline, route and whether it streamed.",
  ["pipeline", "route", "stream"],
  DURATION_BUCKETS,
  registry,
);
export const upstreamDuration = new SeriesHistogram(
  "switchyard_upstream_duration_seconds",
  "One attempt at a backend, from sending to its failure or its body fully relayed, by pipeline, backend and outcome (ok, connect, timeout, status, stream, client_closed).",
  ["pipeline", "backend", "outcome"],
  DURATION_BUCKETS,
  registry,
);
export const upstreamTimeToFirstByte = new SeriesHistogram(
  "switchyard_upstream_time_to_first_byte_seconds",
  "One attempt at a backend, from sending to the upstream's response headers, by pipeline and backend.",
  ["pipeline", "backend"],
  DURATION_BUCKETS,
  registry,
);
export const tokens = new SeriesCounter(
  "switchyard_tokens_total",
  "Tokens by pipeline, backend, model and kind: input (cached_read and cache_write are part of it) and output (reasoning is part of it), as the usage of each request reported them.",
  ["pipeline", "backend", "model", "kind"],
  registry,
);
export const costUsd = new SeriesCounter(
  "switchyard_cost_usd_total",
  "USD spent by pipeline, backend and model, from the cost step's price of each request (requests without a known price add nothing: see switchyard_requests_unpriced_total).",
  ["pipeline", "backend", "model"],
  registry,
);
export const unpriced = new SeriesCounter(
  "switchyard_requests_unpriced_total",
  "Requests with usage but no known price (cost null), by pipeline, backend and model.",
  ["pipeline", "backend", "model"],
  registry,
);
export const finishReasons = new SeriesCounter(
  "switchyard_finish_reasons_total",
  "Answers by pipeline, route and why they ended, as the serving backend's format wrote it (stop, tool_calls, end_turn, max_tokens, STOP, completed, max_output_tokens…; unknown for text no format defines). Answers that failed before saying why are not counted.",
  ["pipeline", "route", "reason"],
  registry,
);
export const inFlight = new Gauge({
  name: "switchyard_requests_in_flight",
  help: "Requests arrived (past the steps before the metrics step) and not yet finished, by pipeline. Read at scrape time.",
  labelNames: ["pipeline"] as const,
  registers,
});
export const streamsOpen = new Gauge({
  name: "switchyard_streams_open",
  help: "Streaming requests arrived and not yet finished, by pipeline. Read at scrape time.",
  labelNames: ["pipeline"] as const,
  registers,
});
export const attempts = new SeriesCounter(
  "switchyard_attempts_total",
  "Attempts at backends by pipeline, backend and outcome (ok, connect, timeout, status, stream, client_closed).",
  ["pipeline", "backend", "outcome"],
  registry,
);
export const fallbacks = new SeriesCounter(
  "switchyard_fallbacks_total",
  "Attempts that moved on to a backend not yet tried for the request, by pipeline and the backend moved to.",
  ["pipeline", "backend"],
  registry,
);
export const retries = new SeriesCounter(
  "switchyard_retries_total",
  "Attempts that tried a backend again for the same request (after a backoff), by pipeline and backend.",
  ["pipeline", "backend"],
  registry,
);
export const rejections = new SeriesCounter(
  "switchyard_rejections_total",
  "Requests refused by a rate limit or a budget, by pipeline and reason (rate_limit_exceeded, concurrency_limit_exceeded, request_too_large, budget_exceeded).",
  ["pipeline", "reason"],
  registry,
);
export const circuitState = new Gauge({
  name: "switchyard_backend_circuit_state",
  help: "health-breaker's circuit per backend: 1 for the state it is in (closed, open, half-open), 0 for the others. Read at scrape time.",
  labelNames: ["pipeline", "backend", "state"] as const,
  registers,
});
export const rateLimited = new Gauge({
  name: "switchyard_backend_rate_limited",
  help: "1 while health-breaker holds a backend back after a 429's retry-after, else 0. Read at scrape time.",
  labelNames: ["pipeline", "backend"] as const,
  registers,
});
export const probeHealthy = new Gauge({
  name: "switchyard_backend_probe_healthy",
  help: "health-active's last verdict per backend: 1 healthy, 0 not. Read at scrape time.",
  labelNames: ["pipeline", "backend"] as const,
  registers,
});
export const storeUp = new Gauge({
  name: "switchyard_store_up",
  help: "1 when the pipeline's state store (memory or redis) is reachable, else 0. Read at scrape time.",
  labelNames: ["pipeline", "kind"] as const,
  registers,
});
export const sinkPending = new Gauge({
  name: "switchyard_record_sink_pending_records",
  help: "Records a sink accepted and has not yet written (its lag), by pipeline, sink step and plugin. Read at scrape time.",
  labelNames: ["pipeline", "sink", "plugin"] as const,
  registers,
});
export const sinkSpool = new Gauge({
  name: "switchyard_record_sink_spool_bytes",
  help: "Bytes a sink holds in its local spool while its store is down (record-postgres), by pipeline, sink step and plugin. Read at scrape time.",
  labelNames: ["pipeline", "sink", "plugin"] as const,
  registers,
});
export const mcpServerUp = new Gauge({
  name: "switchyard_mcp_server_up",
  help: "1 while an MCP server (provider-mcp-stdio, provider-mcp-http) answers, else 0, by pipeline and backend. Read at scrape time.",
  labelNames: ["pipeline", "backend"] as const,
  registers,
});
export const mcpLeftOut = new Gauge({
  name: "switchyard_mcp_server_left_out_of_lists",
  help: "How many list calls left an MCP server's tools, resources or prompts out because it did not answer, by pipeline and backend. Read at scrape time.",
  labelNames: ["pipeline", "backend"] as const,
  registers,
});
export const websocketsOpen = new Gauge({
  name: "switchyard_websocket_sessions_open",
  help: "WebSocket sessions open now (http-proxy upgrades, realtime sessions), by pipeline and relaying step. Read at scrape time.",
  labelNames: ["pipeline", "step"] as const,
  registers,
});
export const websocketsAccepted = new Gauge({
  name: "switchyard_websocket_sessions_accepted",
  help: "WebSocket sessions accepted since the relaying step was built (a reload that keeps the step keeps counting), by pipeline and step. Read at scrape time.",
  labelNames: ["pipeline", "step"] as const,
  registers,
});
export const websocketBytes = new Gauge({
  name: "switchyard_websocket_message_bytes",
  help: "WebSocket message payload bytes since the relaying step was built, by pipeline, step and direction (up: client to upstream, down: upstream to client). Read at scrape time.",
  labelNames: ["pipeline", "step", "direction"] as const,
  registers,
});
export const lastReloadOk = new Gauge({
  name: "switchyard_last_reload_success",
  help: "1 when the last load of the pipeline files (at start, or a hot reload) succeeded, 0 when it failed and the previous pipelines still serve. Read at scrape time.",
  registers,
});
export const lastReloadErrors = new Gauge({
  name: "switchyard_last_reload_errors",
  help: "Problems (file:line:col) the last load of the pipeline files found; 0 when it succeeded. Read at scrape time.",
  registers,
});
export const lastReloadTime = new Gauge({
  name: "switchyard_last_reload_timestamp_seconds",
  help: "When the last load of the pipeline files finished, in Unix seconds. Read at scrape time.",
  registers,
});

/** The gauges read at scrape time; reset before each reading so that a pipeline, backend or sink gone since leaves no stale series. */
export const SCRAPE_TIME_GAUGES = [inFlight, streamsOpen, circuitState, rateLimited, probeHealthy, storeUp, sinkPending, sinkSpool, mcpServerUp, mcpLeftOut, websocketsOpen, websocketsAccepted, websocketBytes, lastReloadOk, lastReloadErrors, lastReloadTime];
