// The "metrics" scenario: what the metrics-prometheus step costs. The small chat request of
// the chat scenario against two switchyard processes in the same run, rounds alternating: one serving
// bench/pipelines/chat.pipeline.json (metrics off), one serving chat-metrics.pipeline.json, the
// same pipeline with the metrics step first (metrics on). The bar (issue 13): at most 3% more
// server CPU per request with metrics on. Scrapes are not part of the load: their cost is per
// scrape (every 15 s or so), not per request.

import { scenarios as coreScenarios } from "./scenarios.mjs";

export const METRICS_ON = "switchyard +metrics";
const CPU_BAR_PCT = 3;

/** The scenario, built on the chat scenario's request so that both measure the very same call. */
export function scenarios(opts) {
  return [metricsScenario(coreScenarios(opts))];
}

function metricsScenario(all) {
  const chat = all.find((s) => s.id === "chat").variants.find((v) => v.kind === "load" && v.rate === undefined && v.rateOf === undefined);
  return {
    id: "metrics",
    title: `metrics on vs off: the chat scenario's request with and without the metrics-prometheus step (bar: at most ${CPU_BAR_PCT}% more CPU per request)`,
    pipeline: "chat",
    variants: [{ id: "max", kind: "load", request: chat.request, bar: {} }],
  };
}

/** switchyard again, serving the chat pipeline with the metrics step, for the metrics scenario only. */
export function withMetricsTarget(switchyard) {
  return {
    ...switchyard,
    name: METRICS_ON,
    supports: (scenario) => scenario.id === "metrics",
    start: (ctx) => switchyard.start({ ...ctx, scenario: { ...ctx.scenario, pipeline: "chat-metrics" } }),
  };
}

/** CPU per request with metrics on over off, from the metrics scenario's rows; null when either row is missing. */
export function metricsOverhead(report) {
  const rows = report.scenarios.find((s) => s.id === "metrics")?.rows ?? [];
  const off = rows.find((r) => r.target === "switchyard" && typeof r.cpuUsPerReq === "number");
  const on = rows.find((r) => r.target === METRICS_ON && typeof r.cpuUsPerReq === "number");
  if (!off || !on) return null;
  const addedPct = Math.round((on.cpuUsPerReq / off.cpuUsPerReq - 1) * 1000) / 10;
  return { offCpuUsPerReq: off.cpuUsPerReq, onCpuUsPerReq: on.cpuUsPerReq, addedPct, barPct: CPU_BAR_PCT, met: report.mode === "smoke" ? null : addedPct <= CPU_BAR_PCT };
}

export function describeMetricsOverhead(o) {
  const verdict = o.met === null ? "smoke run: not judged" : o.met ? "meets it" : "MISSES it";
  return `metrics on vs off: ${o.onCpuUsPerReq} vs ${o.offCpuUsPerReq} cpu µs/req, ${o.addedPct >= 0 ? "+" : ""}${o.addedPct}% (bar: at most +${o.barPct}%; ${verdict}).`;
}
