/**
 * `switchyard simulate --records FILE|postgres://… --pipeline NEW [--against OLD] [--since ISO] [--send] [--json]`:
 * replays recorded requests (record-jsonl lines or record-postgres rows with `captureBody`) through a candidate
 * pipeline's auth, validate, limits, budgets and plan as dry runs (lib/explain: nothing is sent,
 * nothing reserved in any shared store), and prints, beside what the records say happened:
 * refusals and why, the routing split, spend per tenant and model (the candidate's pricing
 * applied to the recorded usage), and rate-limit and budget hits; then sends them for real
 * (simulate-send.ts) for latency and answer differences. Limits and budgets are counted
 * here over the records' own times, in fixed windows of each rule's length: a day of traffic is
 * replayed in seconds, so the store's own clock cannot count them.
 */
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { IrUsage } from "../core/index.js";
import { prepareRequest } from "../core/engine/attempts.js";
import { compilePipeline, type CompiledPipeline } from "../core/engine/compile.js";
import { explainRequest } from "../lib/explain/explain-request.js";
import { silentLogger } from "../lib/log.js";
import { costOf, loadPricing } from "../lib/pricing/price-table.js";
import type { StoredRecord } from "../lib/record/postgres-rows.js";
import { createMemoryStore } from "../lib/state/memory.js";
import { formatProblem } from "../load/check.js";
import { loadPipelines } from "../load/load-pipelines.js";
import type { PluginRegistry } from "../load/registry.js";
import type { LoadedPipeline } from "../core/contract/loaded-pipeline.js";
import { readRecords } from "./simulate-sources.js";
import { renderSend, replayForReal, type Replayable, type SendReport } from "./simulate-send.js";

export const SIMULATE_USAGE = `  switchyard simulate --records FILE|postgres://… [--table T] --pipeline NEW [--against OLD] [--since ISO] [--send] [--concurrency N] [--json]
      replay recorded requests (record-jsonl or record-postgres with captureBody) through NEW's auth, validate, limits,
      budgets and plan without sending them; print refusals, routing, spend per tenant and model, limit and budget
      hits beside what the records say happened (and beside OLD's, with --against); then send them through NEW for
      real, N at a time (default 4), to provider-mock (--send: NEW's own backends), and print statuses, latency
      p50/p95 and how many answers match the recorded ones`;

type Output = { write(text: string): unknown };
type Recorded = StoredRecord;

/** One column of the report: what happened, or what a pipeline would do. */
export interface SimulatedColumn {
  label: string;
  requests: number;
  /** `step status code` -> requests. */
  refused: Record<string, number>;
  /** Backend -> requests it would serve first. */
  routing: Record<string, number>;
  spendByTenant: Record<string, number>;
  spendByModel: Record<string, number>;
  /** Requests with usage but no price in this column's pricing. */
  unpriced: number;
  /** `step rule (unit per window)` -> requests it would refuse. */
  hits: Record<string, number>;
}

export interface SimulationReport {
  records: number;
  replayed: number;
  since?: string;
  columns: SimulatedColumn[];
  /** The replay sent through the candidate for real (mock backends, or its own with --send). */
  send?: SendReport;
}

export async function simulateCommand(args: string[], registry: PluginRegistry, out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { records: { type: "string" }, table: { type: "string" }, pipeline: { type: "string" }, against: { type: "string" }, since: { type: "string" }, json: { type: "boolean" }, send: { type: "boolean" }, concurrency: { type: "string" } },
  });
  if (!values.records || !values.pipeline) {
    err.write(`usage:\n${SIMULATE_USAGE}\n`);
    return 1;
  }
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    err.write(`--concurrency "${values.concurrency}": expected a whole number from 1 to 256\n`);
    return 1;
  }
  const sinceMs = values.since === undefined ? Number.NEGATIVE_INFINITY : Date.parse(values.since);
  if (Number.isNaN(sinceMs)) {
    err.write(`--since "${values.since}": expected an ISO date or time\n`);
    return 1;
  }
  let inRange: Recorded[];
  try {
    inRange = await readRecords(values.records, sinceMs, values.table);
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const replayable = inRange.filter((r): r is Replayable => r.request !== undefined && "body" in r.request);

  const candidates: { label: string; path: string }[] = [{ label: "new", path: values.pipeline }];
  if (values.against) candidates.push({ label: "old", path: values.against });
  const columns: SimulatedColumn[] = [recordedColumn(replayable)];
  const specs: LoadedPipeline[] = [];
  for (const candidate of candidates) {
    const spec = await loadOne(candidate.path, registry, err);
    if (!spec) return 1;
    specs.push(spec);
    columns.push(await replay(candidate.label, spec, replayable, registry));
  }
  const report: SimulationReport = { records: inRange.length, replayed: replayable.length, since: values.since, columns };
  try {
    report.send = await replayForReal(specs[0]!, replayable, registry, { send: values.send === true, concurrency });
  } catch (e) {
    err.write(`replaying through ${values.pipeline}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const legend = candidates.map((c) => `${c.label}: ${c.path}`).join(", ");
  out.write(values.json ? JSON.stringify(report, null, 2) + "\n" : renderSimulation(report, values.records, legend) + renderSend(report.send));
  return 0;
}

const add = (into: Record<string, number>, key: string, by = 1) => void (into[key] = (into[key] ?? 0) + by);
const emptyColumn = (label: string, requests: number): SimulatedColumn => ({ label, requests, refused: {}, routing: {}, spendByTenant: {}, spendByModel: {}, unpriced: 0, hits: {} });

/** What the records say happened to the replayed requests. */
function recordedColumn(records: Recorded[]): SimulatedColumn {
  const column = emptyColumn("recorded", records.length);
  for (const r of records) {
    if (r.status >= 400) add(column.refused, `${r.status} ${r.error?.code ?? "error"}`);
    if (r.backend !== undefined && r.status < 400) add(column.routing, r.backend);
    if (r.usage && r.costUsd === null) column.unpriced++;
    if (typeof r.costUsd === "number") {
      add(column.spendByTenant, r.tenant ?? "(none)", r.costUsd);
      add(column.spendByModel, r.model ?? "(none)", r.costUsd);
    }
  }
  return column;
}

async function loadOne(path: string, registry: PluginRegistry, err: Output): Promise<LoadedPipeline | undefined> {
  const { pipelines: loaded, problems } = await loadPipelines([path], { registry });
  if (problems.length > 0) {
    for (const p of problems) err.write(formatProblem(p) + "\n");
    return undefined;
  }
  if (!loaded[0]) err.write(`no pipeline file found in ${path}\n`);
  return loaded[0];
}

/** The dry run: each request through `spec`'s auth, validate, limits, budgets and plan, nothing sent. */
async function replay(label: string, spec: LoadedPipeline, records: Replayable[], registry: PluginRegistry): Promise<SimulatedColumn> {
  // A store of its own: the replay must not read or move the counters live gateways share.
  const pipeline: CompiledPipeline = await compilePipeline(spec, { log: silentLogger, openStore: async () => createMemoryStore() });
  try {
    const costStep = spec.steps.find((s) => s.use === "cost");
    const pricingFile = (costStep?.config as { pricingFile?: string } | undefined)?.pricingFile;
    const prices = pricingFile === undefined ? undefined : await loadPricing(resolve(dirname(spec.file), pricingFile));
    const column = emptyColumn(label, records.length);
    const windows = new Map<string, number>();
    for (const r of records) {
      const e = await explainRequest(
        { pipeline, hooks: pipeline.hooks, formats: pipeline.formats, prepareRequest: (attempt, x) => prepareRequest(pipeline, x, attempt) },
        { method: "POST", path: r.route, body: r.request.body, tenant: r.tenant, livePlan: true },
      );
      if (e.refusal) {
        add(column.refused, `${e.refusal.step} ${e.refusal.status} ${e.refusal.code}`);
        continue;
      }
      const served = e.plan?.final[0];
      const price = served && prices ? (prices.priceFor(served.model) ?? prices.priceFor(r.model ?? "")) : undefined;
      const cost = r.usage && price ? costOf(r.usage as IrUsage, price) : undefined;
      // The limits the dry run says this request would take, counted over the records' own time.
      const hit = e.reserves.find((w) => {
        const amount = w.unit === "usd" ? (cost ?? w.amount) : w.amount;
        const key = `${w.step}|${w.rule}|${w.subject}|${w.unit}|${windowOf(Date.parse(r.time), w.per)}`;
        return (windows.get(key) ?? 0) + amount > w.limit;
      });
      if (hit) {
        add(column.hits, `${hit.step} ${hit.rule} (${hit.unit} per ${hit.per ?? "request"})`);
        add(column.refused, `${hit.step} ${hit.unit === "usd" ? "402 budget_exceeded" : "429 rate_limit_exceeded"}`);
        continue;
      }
      for (const w of e.reserves) {
        if (w.unit === "concurrent") continue;
        const key = `${w.step}|${w.rule}|${w.subject}|${w.unit}|${windowOf(Date.parse(r.time), w.per)}`;
        windows.set(key, (windows.get(key) ?? 0) + (w.unit === "usd" ? (cost ?? w.amount) : w.unit === "tokens" && r.usage ? r.usage.inputTokens + r.usage.outputTokens : w.amount));
      }
      if (served) add(column.routing, served.backend);
      if (r.usage && cost === undefined) column.unpriced++;
      if (cost !== undefined) {
        add(column.spendByTenant, r.tenant ?? "(none)", cost);
        add(column.spendByModel, r.model ?? "(none)", cost);
      }
    }
    return column;
  } finally {
    await pipeline.close();
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The fixed window of length `per` (`1m`, `day`, `month`…) that `timeMs` falls in. */
function windowOf(timeMs: number, per: string | undefined): string {
  if (per === undefined) return "-";
  if (per === "day") return new Date(timeMs).toISOString().slice(0, 10);
  if (per === "month") return new Date(timeMs).toISOString().slice(0, 7);
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(per) ?? /^(\d+)s period$/.exec(per);
  const length = match ? Number(match[1]) * (UNIT_MS[match[2] ?? "s"] ?? 1000) : Number.POSITIVE_INFINITY;
  return String(Math.floor(timeMs / length));
}

function renderSimulation(report: SimulationReport, source: string, legend: string): string {
  const cols = report.columns;
  const names = cols.flatMap((c) => [c.refused, c.routing, c.spendByTenant, c.spendByModel, c.hits].flatMap((m) => Object.keys(m)));
  const nameWidth = Math.max(24, ...names.map((n) => n.length + 4));
  const width = 16;
  const lines: string[] = [];
  lines.push(`simulate  ${report.replayed} of ${report.records} recorded requests${report.since ? ` since ${report.since}` : ""} replayed from ${source} (the others have no captured body)`);
  lines.push(`          ${legend}`);
  lines.push("");
  const row = (name: string, cells: string[]) => lines.push(`${name.padEnd(nameWidth)}${cells.map((c) => c.padEnd(width)).join("")}`.trimEnd());
  row("", cols.map((c) => c.label));
  const section = (title: string, pick: (c: SimulatedColumn) => Record<string, number>, show: (n: number, c: SimulatedColumn) => string) => {
    const keys = [...new Set(cols.flatMap((c) => Object.keys(pick(c))))].sort();
    lines.push("");
    lines.push(title);
    if (keys.length === 0) row("  (none)", []);
    for (const key of keys) row(`  ${key}`, cols.map((c) => show(pick(c)[key] ?? 0, c)));
  };
  const share = (n: number, c: SimulatedColumn) => `${n} (${c.requests > 0 ? ((100 * n) / c.requests).toFixed(1) : "0.0"}%)`;
  const usd = (n: number) => `$${n.toFixed(6)}`;
  section("refused", (c) => c.refused, (n) => String(n));
  section("routing (first backend)", (c) => c.routing, share);
  section("spend by tenant", (c) => c.spendByTenant, usd);
  section("spend by model", (c) => c.spendByModel, usd);
  section("rate-limit and budget hits", (c) => c.hits, (n) => String(n));
  lines.push("");
  row("unpriced requests", cols.map((c) => String(c.unpriced)));
  return lines.join("\n") + "\n";
}
