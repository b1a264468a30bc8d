/**
 * `switchyard simulate`'s real replay: the recorded requests sent through the candidate pipeline
 * as a gateway of its own, in this process, on 127.0.0.1, `concurrency` at a time — against
 * provider-mock in place of every backend by default, against the pipeline's real backends with
 * `--send`. What the candidate would leave behind is kept in: its record sinks and trace export
 * (everything tapping `record`) see nothing, and its limits, budgets and selectors count in a
 * memory store of its own.
 *
 * The recorded tenant is admitted without its key: the candidate's auth taps are muted, and one
 * tap of the replay's own admits a request only with a random token made for that one request,
 * used once, in memory only for the replay's life. Nothing else gets past it, and no served
 * pipeline has it.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { AsyncParallelHook, AsyncSeriesBailHook } from "tapable";
import { GatewayError, type PipelineHooks, type StepPlugin } from "../core/index.js";
import { compilePipeline, type CompiledPipeline } from "../core/engine/compile.js";
import type { LoadedPipeline } from "../core/contract/loaded-pipeline.js";
import { GatewayServer } from "../core/serve/server.js";
import { answerText, digestText } from "../lib/record/answer-digest.js";
import type { StoredRecord } from "../lib/record/postgres-rows.js";
import { silentLogger } from "../lib/log.js";
import { createMemoryStore } from "../lib/state/memory.js";
import type { PluginRegistry } from "../load/registry.js";

const REPLAY = "simulate-replay";
export const ADMISSION_HEADER = "x-switchyard-replay-admission";

/** Latency in milliseconds at the 50th and 95th percentiles (nearest rank); null without samples. */
export interface LatencySummary {
  p50: number | null;
  p95: number | null;
}

/** The replay beside what the records say, for the same requests. */
export interface SendReport {
  /** `mock`: provider-mock in place of every backend; `real`: the candidate's own backends (`--send`). */
  backends: "mock" | "real";
  concurrency: number;
  sent: number;
  /** Status -> requests, recorded and replayed (0: no answer at all). */
  statuses: { recorded: Record<string, number>; replay: Record<string, number> };
  /** Over the requests answered 200 in each. */
  latencyMs: { recorded: LatencySummary; replay: LatencySummary };
  /**
   * Answers compared by the digest of their text: `same`, `different`, and `unknown` when the
   * record holds no digest (recorded without captureBody, or not answered) or the replay was not answered.
   */
  answers: { same: number; different: number; unknown: number };
  /** Record ids whose replayed answer differs from the recorded one. */
  differentIds: string[];
}

export type Replayable = StoredRecord & { request: { body: Record<string, unknown> } };

/** The candidate served for the replay: its address, and a one-time admission per request. */
export interface ReplayGateway {
  readonly url: string;
  readonly pipeline: CompiledPipeline;
  /** A token admitting one request as `tenant` (its `x-switchyard-replay-admission` header); taken on first use. */
  admit(tenant: string | undefined, keyId: string | undefined): string;
  /** Forgets a token not used (the request never reached auth). */
  forget(token: string): void;
  close(): Promise<void>;
}

export async function startReplayGateway(spec: LoadedPipeline, registry: PluginRegistry, send: boolean): Promise<ReplayGateway> {
  const pipeline = await compileForReplay(spec, registry, send);
  const admissions = new Map<string, { tenant?: string; keyId?: string }>();
  admitOnce(pipeline.hooks, admissions);
  const server = new GatewayServer([pipeline], { log: silentLogger });
  const address = await server.listen(0, "127.0.0.1");
  return {
    url: `http://127.0.0.1:${address.port}`,
    pipeline,
    admit(tenant, keyId) {
      const token = randomBytes(32).toString("base64url");
      admissions.set(token, { tenant, keyId });
      return token;
    },
    forget: (token) => void admissions.delete(token),
    close: async () => void (await server.drain(5_000)),
  };
}

export async function replayForReal(spec: LoadedPipeline, records: readonly Replayable[], registry: PluginRegistry, options: { send: boolean; concurrency: number }): Promise<SendReport> {
  const gateway = await startReplayGateway(spec, registry, options.send);
  const results: { record: Replayable; status: number; latencyMs: number; digest: string | undefined }[] = [];
  try {
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const record = records[next++]!;
        results.push({ record, ...(await replayOne(gateway, record)) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, records.length) }, worker));
  } finally {
    await gateway.close();
  }

  const count = (into: Record<string, number>, status: number) => void (into[String(status)] = (into[String(status)] ?? 0) + 1);
  const report: SendReport = {
    backends: options.send ? "real" : "mock", concurrency: options.concurrency, sent: records.length,
    statuses: { recorded: {}, replay: {} },
    latencyMs: { recorded: summary(records.filter((r) => r.status === 200).map((r) => r.latencyMs)), replay: summary(results.filter((r) => r.status === 200).map((r) => r.latencyMs)) },
    answers: { same: 0, different: 0, unknown: 0 }, differentIds: [],
  };
  for (const r of records) count(report.statuses.recorded, r.status);
  for (const r of results) {
    count(report.statuses.replay, r.status);
    if (r.record.answerDigest === undefined || r.digest === undefined) report.answers.unknown++;
    else if (r.record.answerDigest === r.digest) report.answers.same++;
    else (report.answers.different++, report.differentIds.push(r.record.id));
  }
  report.differentIds.sort();
  return report;
}

/**
 * The candidate as the replay runs it: every step made as in the file, but with the `auth` and
 * `record` hooks it taps left unconnected (the replay admits tenants itself; nothing is recorded
 * or exported), backends swapped for provider-mock unless `send`, and a memory store of its own.
 */
async function compileForReplay(spec: LoadedPipeline, registry: PluginRegistry, send: boolean): Promise<CompiledPipeline> {
  const mock = send ? undefined : await registry.resolve("provider-mock", spec.dir);
  if (!send && mock?.kind !== "provider") throw new Error("provider-mock is not registered: replay with --send, against the real backends");
  const backends = spec.backends.map((b) => (mock?.kind === "provider" ? { ...b, use: mock.name, plugin: mock, config: {} } : b));
  const steps = spec.steps.map((step) => ({ ...step, plugin: muted(step.plugin) }));
  return compilePipeline({ ...spec, backends, steps }, { log: silentLogger, openStore: async () => createMemoryStore() });
}

/** `plugin` with its taps on `auth` and `record` going to hooks nobody calls. */
function muted(plugin: StepPlugin<unknown>): StepPlugin<unknown> {
  return {
    ...plugin,
    async create(config, env) {
      const instance = await plugin.create(config, env);
      return {
        apply(hooks: PipelineHooks) {
          const unconnected = Object.create(hooks, {
            auth: { value: new AsyncSeriesBailHook<[unknown], unknown>(["exchange"]) },
            record: { value: new AsyncParallelHook<[unknown, unknown]>(["record", "exchange"]) },
          }) as PipelineHooks;
          instance.apply(unconnected);
        },
        close: instance.close?.bind(instance),
      };
    },
  };
}

/** The replay's only way in: a token made for one request, taken on first use. */
function admitOnce(hooks: PipelineHooks, admissions: Map<string, { tenant?: string; keyId?: string }>): void {
  hooks.auth.tap(REPLAY, (x) => {
    const token = x.headers[ADMISSION_HEADER];
    const admitted = typeof token === "string" ? admissions.get(token) : undefined;
    if (admitted === undefined) return new GatewayError({ status: 401, type: "authentication", code: "replay_admission_required", message: "this gateway only takes the replay's own requests" });
    admissions.delete(token as string);
    Object.assign(x, { tenant: admitted.tenant, keyId: admitted.keyId, role: "client" });
    return undefined;
  });
}

async function replayOne(gateway: ReplayGateway, record: Replayable): Promise<{ status: number; latencyMs: number; digest: string | undefined }> {
  const token = gateway.admit(record.tenant, record.keyId);
  const startedAt = performance.now();
  try {
    const res = await fetch(gateway.url + pathOf(record), {
      method: "POST",
      headers: { "content-type": "application/json", [ADMISSION_HEADER]: token },
      body: JSON.stringify(record.request.body),
    });
    const body = await res.text();
    const latencyMs = Math.round((performance.now() - startedAt) * 100) / 100;
    const format = gateway.pipeline.formats.get(record.format);
    const text = res.status === 200 && format ? answerText(format, [body], (res.headers.get("content-type") ?? "").startsWith("text/event-stream")) : undefined;
    return { status: res.status, latencyMs, digest: text === undefined ? undefined : digestText(text) };
  } catch {
    // No answer at all (the connection broke): counted as status 0, never a crash of the whole replay.
    return { status: 0, latencyMs: Math.round((performance.now() - startedAt) * 100) / 100, digest: undefined };
  } finally {
    gateway.forget(token);
  }
}

/** The path to send to: the recorded route, with Gemini's `:target` (model and method) filled in from the record. */
function pathOf(record: StoredRecord): string {
  if (!record.route.includes(":target")) return record.route;
  const method = record.stream ? "streamGenerateContent" : "generateContent";
  return record.route.replace(":target", `${encodeURIComponent(record.model ?? "")}:${method}`) + (record.stream ? "?alt=sse" : "");
}

function summary(samples: number[]): LatencySummary {
  if (samples.length === 0) return { p50: null, p95: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: rank(50), p95: rank(95) };
}

/** The replay for people: its figures beside the records' for the same requests. */
export function renderSend(send: SendReport | undefined): string {
  if (!send) return "";
  const ms = (n: number | null) => (n === null ? "-" : `${n.toFixed(1)} ms`);
  const statuses = [...new Set([...Object.keys(send.statuses.recorded), ...Object.keys(send.statuses.replay)])].sort();
  const width = Math.max(24, ...statuses.map((s) => s.length + 11));
  const row = (name: string, recorded: string, replay: string) => `${name.padEnd(width)}${recorded.padEnd(16)}${replay}`.trimEnd();
  const lines = [
    "",
    `sent through new for real: ${send.sent} requests, ${send.concurrency} at a time, ${send.backends === "mock" ? "provider-mock in place of every backend (--send: the real ones)" : "to its real backends"}`,
    "",
    row("", "recorded", "replay"),
    ...statuses.map((s) => row(`  status ${s}`, String(send.statuses.recorded[s] ?? 0), String(send.statuses.replay[s] ?? 0))),
    row("  latency p50 (200s)", ms(send.latencyMs.recorded.p50), ms(send.latencyMs.replay.p50)),
    row("  latency p95 (200s)", ms(send.latencyMs.recorded.p95), ms(send.latencyMs.replay.p95)),
    "",
    `answers (digest of the text)  same ${send.answers.same}, different ${send.answers.different}, not comparable ${send.answers.unknown}`,
  ];
  if (send.differentIds.length > 0) lines.push(`  different: ${send.differentIds.join(", ")}`);
  return lines.join("\n") + "\n";
}
