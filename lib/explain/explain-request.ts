/**
 * A dry run of one request through a compiled pipeline: the route it takes, each step in order
 * with its `when` verdict, auth and validate as the client would meet them, the plan and why, the
 * translation of every attempt, and what limits and budgets would hold, with nothing sent
 * upstream and nothing reserved. Taps run as for a real request except the ones whose step
 * answers the dry-run question (lib/explain/dry-run.ts): those say what they would do instead.
 * Shared by `switchyard explain` and the explain plugin's `POST /admin/explain`.
 */
import { randomUUID } from "node:crypto";
import {
  GENERATE_ENDPOINT, GatewayError, RequestEnd, asGatewayError, newExchange, type Answer, type Attempt, type Exchange, type FormatRegistry,
  type PipelineHooks, type PipelineView, type PreparedRequest,
} from "../../core/index.js";
import { askBackendStates, type BackendState } from "../health/report.js";
import { askDryRun, type DryRunPhase, type WouldReserve } from "./dry-run.js";
import { matchRoute } from "./match-route.js";

/** The request to explain, as a client would send it. */
export interface ExplainInput {
  method?: string;
  /** The request path (`/v1/chat/completions`); default: the pipeline's first model route. */
  path?: string;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
  /** Explain as this tenant: auth is not run (no key needed) and `tenant` is taken as its answer. */
  tenant?: string;
  /**
   * Run the plan steps' own taps, moving their rotations on, as a real request would: for a
   * simulation over many requests on a private copy of the pipeline, where selectors must spread.
   */
  livePlan?: boolean;
}

export interface ExplainTarget {
  readonly pipeline: PipelineView;
  readonly hooks: PipelineHooks;
  readonly formats: FormatRegistry;
  /** The core's own preparation of an attempt (EndpointIo.prepareRequest). */
  prepareRequest(attempt: Attempt, exchange: Exchange): PreparedRequest;
}

export interface StepExplained {
  id: string;
  use: string;
  /** The hooks its taps are on: its phases. */
  hooks: string[];
  /** Its `when`, evaluated where its first phase ran: the verdict and the matcher that decided it, or why it failed (closed). */
  when?: { matches: boolean; decidedBy: string } | { failed: string };
  /** `passed`, `refused`, `skipped` (its `when` did not match), `not reached` (an earlier step refused), or `later` (it works after the reply: translate, stream, cost, record…). */
  outcome: "passed" | "refused" | "skipped" | "not reached" | "later";
  says: string[];
  detail?: Record<string, unknown>;
}

export interface PlannedAttempt {
  backend: string;
  model: string;
  /** How the backend came to serve the model: listed, a pattern, a model map, an alias group. */
  why: string;
  state?: BackendState;
}

export interface AttemptExplained {
  n: number;
  backend: string;
  model: string;
  /** A second try of a backend already tried (after a backoff). */
  retry: boolean;
  clientFormat: string;
  backendFormat: string;
  /** The client's own bytes (or body, model renamed) go out: no translation. */
  passthrough: boolean;
  /** Fields the translate policy drops for this backend. */
  dropped: string[];
  /** Preparing this attempt fails (a strict translate policy, no translate step): the loop ends with it. */
  error?: { status: number; code: string; message: string };
}

export interface Explanation {
  pipeline: string;
  request: { method: string; path: string; model?: string; stream: boolean; tenant?: string; keyId?: string };
  route?: { method: string; path: string; format: string; endpoint: string; admin: boolean };
  steps: StepExplained[];
  plan?: { candidates: PlannedAttempt[]; byStep: { step: string; order: string[]; says: string[] }[]; final: PlannedAttempt[] };
  attempts?: { maxAttempts: number; on: (string | number)[]; list: AttemptExplained[] };
  stream?: { relayed: boolean; idleTimeoutMs: number };
  reserves: (WouldReserve & { step: string })[];
  /** The reply the client would get instead of a model answer, in its own format. */
  refusal?: { step: string; status: number; code: string; body: unknown; headers: Record<string, string> };
  /** One line: sent where, or refused by whom. */
  verdict: string;
}

const PHASES: readonly DryRunPhase[] = ["auth", "validate"];

/** A tap as the step gates registered it: its step's id beside tapable's own fields. */
type Tap = { name: string; step?: string; fn: (...args: unknown[]) => unknown };
const tapsOf = (hook: { taps: readonly unknown[] } | undefined): Tap[] => (hook?.taps ?? []) as Tap[];

export async function explainRequest(target: ExplainTarget, input: ExplainInput): Promise<Explanation> {
  const { pipeline: p, hooks } = target;
  const method = (input.method ?? "POST").toUpperCase();
  const found = matchRoute(p.routes, method, input.path);
  const path = input.path ?? found?.route.path ?? "/";
  // `query` is how steps ask each other (usage, backend states, this dry run): no phase of a request.
  const steps = new Map(p.steps.map((s) => [s.id, { id: s.id, use: s.use, hooks: s.hooks.filter((h) => h !== "query"), outcome: "later", says: [] } as StepExplained]));
  const out: Explanation = { pipeline: p.id, request: { method, path, stream: false }, steps: [...steps.values()], reserves: [], verdict: "" };
  if (!found) {
    out.verdict = `no route of pipeline ${p.id} takes ${method} ${path}: 404 unknown_route`;
    return out;
  }
  const { route, params } = found;
  const format = target.formats.get(route.format)!;
  out.route = { method: route.method, path: route.path, format: route.format, endpoint: route.endpoint, admin: route.admin === true };
  const headers = Object.fromEntries(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const x = newExchange({
    id: `explain-${randomUUID()}`, clientRequestId: undefined, pipelineId: p.id, route, format, headers,
    inbound: { path, params, query: {} }, end: new RequestEnd(),
  });
  x.body = input.body;
  ({ model: x.model, stream: x.stream } = format.peek(x.body, x.inbound));
  Object.assign(out.request, { model: x.model, stream: x.stream });

  const refuse = (step: string, answer: Answer): Explanation => {
    const err = answer instanceof GatewayError ? answer : undefined;
    const rendered = err ? format.renderError(err) : { status: (answer as { status: number }).status, body: (answer as { body: unknown }).body };
    const extra: Record<string, string> = { ...err?.headers };
    if (err?.retryAfterMs !== undefined) extra["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    out.refusal = { step, status: rendered.status, code: err?.code ?? String(rendered.status), body: rendered.body, headers: extra };
    const entry = steps.get(step);
    if (entry) entry.outcome = "refused";
    for (const s of out.steps) if (s.outcome === "later" && s.hooks.some((h) => h === "auth" || h === "validate" || h === "plan")) s.outcome = "not reached";
    out.verdict = `refused by ${step}: ${rendered.status} ${out.refusal.code}${err ? ` (${err.message})` : ""}`;
    return out;
  };
  /** The step's `when` at this point of the walk; false when it does not match. Throws (fails closed) as the gate would. */
  const gate = (entry: StepExplained): boolean => {
    const when = p.steps.find((s) => s.id === entry.id)?.when;
    if (!when) return true;
    if (entry.when && "matches" in entry.when) return entry.when.matches;
    try {
      entry.when = when.explain ? when.explain(x) : { matches: when(x), decidedBy: "when" };
    } catch (err) {
      entry.when = { failed: err instanceof Error ? err.message : String(err) };
      throw asGatewayError(err, entry.id);
    }
    if (!entry.when.matches) entry.outcome = "skipped";
    return entry.when.matches;
  };
  const entryOf = (tap: Tap): StepExplained => steps.get(tap.step ?? tap.name) ?? { id: tap.step ?? tap.name, use: tap.name, hooks: [], outcome: "later", says: [] };

  for (const phase of PHASES) {
    if (phase === "auth" && input.tenant !== undefined) {
      Object.assign(x, { tenant: input.tenant, role: "client" });
      for (const tap of tapsOf(hooks.auth)) entryOf(tap).says.push(`auth not run: explained as tenant ${input.tenant}`);
      continue;
    }
    if (phase === "validate" && route.admin) {
      if (x.role !== "admin") return refuse("core", new GatewayError({ status: 403, type: "permission", code: "admin_key_required", message: "this route needs an admin API key" }));
      break;
    }
    for (const tap of tapsOf(hooks[phase])) {
      const entry = entryOf(tap);
      try {
        if (!gate(entry)) continue;
        const answer = await askDryRun(hooks, { step: entry.id, phase }, x);
        if (answer) {
          entry.says.push(...answer.says);
          out.reserves.push(...(answer.reserves ?? []).map((r) => ({ step: entry.id, ...r })));
          if (answer.detail) entry.detail = { ...answer.detail };
          if (answer.refusal) return refuse(entry.id, answer.refusal);
        } else {
          const answered = (await tap.fn(x)) as Answer | undefined;
          if (answered) return refuse(entry.id, answered);
        }
        entry.outcome = "passed";
      } catch (err) {
        return refuse(entry.id, asGatewayError(err, entry.id));
      }
    }
    if (phase === "auth") {
      out.request.tenant = x.tenant;
      out.request.keyId = x.keyId;
    }
  }

  if (route.endpoint !== GENERATE_ENDPOINT) {
    const servers = tapsOf(hooks.endpoint.get(route.endpoint)).map((t) => t.step ?? t.name);
    out.verdict = `answered by ${servers.join(" or ") || "no step"} (endpoint ${route.endpoint}); nothing further is explained`;
    return out;
  }
  if (x.model === undefined || x.model === "") return refuse("core", GatewayError.invalidRequest("the request names no model", "model", "missing_model"));
  const candidates = p.models.attemptsFor(x.model);
  if (candidates.length === 0) return refuse("core", GatewayError.modelNotFound(x.model));
  const states = await askBackendStates(hooks, x);
  const describe = (a: Attempt): PlannedAttempt => ({ backend: a.backend.id, model: a.model, why: whyServes(a, x.model!), state: states.get(a.backend.id) });
  out.plan = { candidates: candidates.map(describe), byStep: [], final: [] };

  let plan: Attempt[] = candidates;
  for (const tap of tapsOf(hooks.plan)) {
    const entry = entryOf(tap);
    const before = plan.map((a) => a.backend.id).join(", ");
    const said: string[] = [];
    try {
      if (!gate(entry)) continue;
      const answer = input.livePlan ? undefined : await askDryRun(hooks, { step: entry.id, phase: "plan", plan }, x);
      if (answer) {
        said.push(...answer.says);
        entry.says.push(...answer.says);
        if (answer.detail) entry.detail = { ...answer.detail };
      }
      plan = answer?.plan ?? ((await tap.fn(plan, x)) as Attempt[]);
      entry.outcome = "passed";
    } catch (err) {
      return refuse(entry.id, asGatewayError(err, entry.id));
    }
    const order = plan.map((a) => a.backend.id);
    const says = [...said, before === order.join(", ") ? `left the plan as it was: ${before || "empty"}` : `${before || "empty"} → ${order.join(", ") || "empty"}`];
    if (said.length === 0) entry.says.push(says[0]!);
    out.plan.byStep.push({ step: entry.id, order, says });
  }
  out.plan.final = plan.map(describe);
  if (plan.length === 0) return refuse("core", emptyPlan(x, x.model));

  const list: AttemptExplained[] = [];
  const maxAttempts = p.attempts.maxAttempts;
  for (let i = 0; i < maxAttempts; i++) {
    const attempt = plan[i % plan.length]!;
    const notesBefore = x.notes.length;
    const item: AttemptExplained = {
      n: i + 1, backend: attempt.backend.id, model: attempt.model, retry: i >= plan.length, clientFormat: route.format, backendFormat: "", passthrough: false, dropped: [],
    };
    try {
      const prepared = target.prepareRequest(attempt, x);
      item.backendFormat = prepared.backendFormat;
      item.passthrough = prepared.translation === undefined;
      const note = `dropped for ${prepared.backendFormat}: `;
      // The translate step notes each drop once per request: look at every note, not only this attempt's.
      item.dropped = x.notes.filter((n) => n.startsWith(note)).flatMap((n) => n.slice(note.length).split(", "));
    } catch (err) {
      const failure = asGatewayError(err, "translate");
      item.error = { status: failure.status, code: failure.code, message: failure.message };
    }
    x.notes.length = notesBefore;
    list.push(item);
    if (item.error) break;
  }
  out.attempts = { maxAttempts, on: [...p.attempts.on], list };
  if (list[0]?.error) return refuse("translate", new GatewayError({ status: list[0].error.status, type: "invalid_request", code: list[0].error.code, message: list[0].error.message }));

  if (x.stream) {
    const policy = hooks.streamPolicy.call({ idleTimeoutMs: p.timeouts.idleMs, relay: undefined }, x);
    out.stream = { relayed: policy.relay !== undefined, idleTimeoutMs: policy.idleTimeoutMs };
    if (!policy.relay) return refuse("core", GatewayError.invalidRequest(`pipeline ${p.id} does not stream: add a stream-sse step`, "stream", "streaming_disabled"));
  }
  // Steps that work only once a reply comes (translate, stream, cost, record): their `when` as it stands now.
  for (const entry of out.steps) {
    if (entry.outcome !== "later" || entry.when) continue;
    try {
      gate(entry);
    } catch {
      // The verdict is on the entry; a request reaching this step would fail with condition_failed.
    }
  }
  const first = list[0]!;
  out.verdict = `would be sent to ${first.backend} as ${first.model} (${first.passthrough ? `${first.backendFormat}, passed through` : `${first.clientFormat} → ${first.backendFormat}, translated`})${list.length > 1 ? `, then up to ${list.length - 1} more attempt(s) on ${[...new Set(list.slice(1).map((a) => a.backend))].join(", ")}` : ""}`;
  return out;
}

function whyServes(a: Attempt, model: string): string {
  const patterns = a.backend.models.join(", ");
  if (a.backend.modelMap[model] === a.model && a.model !== model) return `serves ${model} (models: ${patterns}) as ${a.model} by its model map`;
  if (a.model !== model && !a.backend.modelMap[model]) return `member ${a.model} of the alias group ${model} (models: ${patterns})`;
  return `serves ${model} (models: ${patterns})`;
}

/** The core's answer to an empty plan (core/engine/generate.ts): 429 when every backend held back is rate-limited, else 503. */
function emptyPlan(x: Exchange, model: string): GatewayError {
  const held = x.heldBack;
  if (held?.rateLimited) {
    return new GatewayError({ status: 429, type: "rate_limit", code: "backends_rate_limited", message: `every backend for model "${model}" is rate-limited for now`, retryAfterMs: held.retryAfterMs });
  }
  return new GatewayError({ status: 503, type: "unavailable", code: "no_backend_available", message: `no backend is available for model "${model}"`, retryAfterMs: held?.retryAfterMs });
}
