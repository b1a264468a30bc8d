/**
 * admin-api: the operator's API (routes with `"endpoint": "admin"`, a prefix, admin keys only) and
 * dashboard page (`"endpoint": "admin-ui"`). It reads the gateway through questions other parts
 * answer: the mounted pipelines and reloads (lib/operate/gateway-control.ts, cli/reload.ts),
 * backend health (lib/health/report.ts), keys (lib/auth/key-admin.ts, auth-api-key), and the
 * traffic each pipeline's admin-api step counts (traffic.ts). The core logs every admin call with
 * the admin key's id; no key, new ones included, is ever logged.
 */
import { readFileSync } from "node:fs";
import { definePlugin, GatewayError, readBody, type Exchange, type EndpointIo, type Answer, type RouteInfo } from "../../core/index.js";
import { askKeyAdmin, KeyAdminError, type NewKey } from "../../lib/auth/key-admin.js";
import { askBackendStates } from "../../lib/health/report.js";
import { askGatewayControl, type GatewayControl } from "../../lib/operate/gateway-control.js";
import type { AdminApiConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { answerTraffic, askTraffic, TrafficCounter } from "./traffic.js";

const PLUGIN = "admin-api";
const MAX_BODY_BYTES = 64 * 1024;
/** The page calls the API only on its own origin and runs no script but its own. */
const DASHBOARD_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
};

export default definePlugin<AdminApiConfig>({
  kind: "step",
  name: PLUGIN,
  description: "The operator's API (admin keys only): pipelines, backends' health and latency, traffic, reload, keys; and the dashboard page at admin-ui routes.",
  configSchema,
  endpoints: {
    admin: { description: "the admin API: pipelines, backends, traffic, reload, keys (admin keys only)", body: "handler", match: "prefix", admin: true },
    "admin-ui": { description: "the dashboard page (static; it asks for the admin key and calls the admin API)", body: "handler", operator: true },
  },
  create(config) {
    const traffic = new TrafficCounter(config.minutes ?? 30, config.latencySamples ?? 200);
    return {
      apply(hooks) {
        hooks.attemptStarted.tap(PLUGIN, (_x, attempt) => traffic.attemptStarted(attempt.backend.id));
        hooks.attemptFinished.tap(PLUGIN, (_x, outcome) => traffic.attemptFinished(outcome.backend, outcome.latencyMs, outcome.failure !== undefined));
        // Page loads of the dashboard are no traffic to watch.
        hooks.record.tap(PLUGIN, (record, x) => void (x.route.endpoint !== "admin-ui" && traffic.requestFinished(record.status)));
        answerTraffic(hooks, PLUGIN, traffic);
        hooks.endpoint.for("admin-ui").tapPromise(PLUGIN, async (x, io) => {
          if (x.route.method !== "GET" && x.route.method !== "HEAD") throw notFound(x);
          io.res.writeHead((x.status = 200), DASHBOARD_HEADERS).end(dashboardPage());
          return "written";
        });
        hooks.endpoint.for("admin").tapPromise(PLUGIN, async (x, io) => {
          const control = await askGatewayControl(hooks);
          if (!control) throw new GatewayError({ status: 503, type: "unavailable", code: "control_unavailable", source: PLUGIN, message: "this pipeline runs without a gateway that answers for its pipelines (not served by switchyard serve)" });
          return answerAdmin(x, io, control, hooks);
        });
      },
    };
  },
});

async function answerAdmin(x: Exchange, io: EndpointIo, control: GatewayControl, hooks: Parameters<typeof askKeyAdmin>[0]): Promise<Answer> {
  const prefix = x.route.path.replace(/\/+$/, "");
  const [resource, id, action, ...rest] = x.inbound.path.slice(prefix.length).split("/").filter((s) => s !== "");
  const method = x.route.method === "HEAD" ? "GET" : x.route.method;
  const call = `${method} ${resource ?? ""}${id === undefined ? "" : "/:id"}${action === undefined ? "" : `/${action}`}`;
  if (rest.length > 0) throw notFound(x);
  switch (call) {
    case "GET pipelines": {
      const listeners = control.listeners();
      // Which port serves each route: operator routes move to the admin port when there is one.
      const portOf = (route: RouteInfo) => (listeners === undefined ? {} : { port: route.operator && listeners.adminPort !== undefined ? listeners.adminPort : listeners.port });
      const pipelines = control.pipelines().map(({ hooks: _hooks, routes, ...described }) => ({ ...described, routes: routes.map((r) => ({ ...r, ...portOf(r) })) }));
      return ok({ pipelines, ...(listeners === undefined ? {} : { listeners }), lastReload: control.lastReload() ?? null });
    }
    case "GET backends":
      return ok({ backends: await backendsOf(control) });
    case "GET traffic":
      return ok({ pipelines: await Promise.all(control.pipelines().map(async (p) => ({ id: p.id, minutes: (await askTraffic(p.hooks))?.minutes ?? null }))) });
    case "GET reload":
      return ok({ lastReload: control.lastReload() ?? null });
    case "POST reload": {
      const result = await control.reload("admin");
      if (result === "busy") throw new GatewayError({ status: 409, type: "invalid_request", code: "reload_in_progress", source: PLUGIN, message: "a reload is running; ask again when it is done", retryAfterMs: 1000 });
      // A file that does not load is the caller's to fix: 422 with the problems, the old pipelines still serving.
      return { status: result.ok ? 200 : 422, body: { lastReload: result } };
    }
    case "GET keys":
      return ok({ keys: await (await keyAdmin(hooks)).list() });
    case "POST keys": {
      const spec = newKeyFrom(await readJson(io));
      const added = await keyCall(() => keyAdmin(hooks).then((admin) => admin.add(spec)));
      return { status: 201, body: { key: added.key, ...added.listing, note: "the key is shown this once; the keys file holds only its hash" } };
    }
    case "POST keys/:id/disable": {
      const keyId = pathSegment(id!);
      const done = await keyCall(() => keyAdmin(hooks).then((admin) => admin.disable(keyId)));
      return ok({ id: keyId, status: "disabled", alreadyDisabled: done.alreadyDisabled });
    }
    default:
      throw notFound(x);
  }
}

/** Every mounted pipeline's backends: their health as the health steps see it, their traffic as that pipeline's admin-api step counted it. */
async function backendsOf(control: GatewayControl): Promise<unknown[]> {
  const rows = [];
  for (const p of control.pipelines()) {
    const [states, traffic] = await Promise.all([askBackendStates(p.hooks), askTraffic(p.hooks)]);
    for (const b of p.backends) {
      const state = states.get(b.id) ?? {};
      const healthy = state.breaker?.state !== "open" && state.probe?.healthy !== false;
      rows.push({ pipeline: p.id, id: b.id, use: b.use, models: b.models, healthy, breaker: state.breaker ?? null, probe: state.probe ?? null, traffic: traffic?.backends[b.id] ?? (traffic ? { inFlight: 0, latencyMs: null, samples: 0, failures: 0 } : null) });
    }
  }
  return rows;
}

async function keyAdmin(hooks: Parameters<typeof askKeyAdmin>[0]) {
  const admin = await askKeyAdmin(hooks);
  if (!admin) throw new GatewayError({ status: 501, type: "unavailable", code: "keys_unavailable", source: PLUGIN, message: "this pipeline has no auth step that manages a keys file (auth-api-key)" });
  return admin;
}

/** The keys file's refusals (an id used twice, an unknown id) in the client's format; anything else stays a 500. */
async function keyCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof KeyAdminError)) throw err;
    throw err.status === 404
      ? new GatewayError({ status: 404, type: "not_found", code: "unknown_key", source: PLUGIN, message: err.message })
      : GatewayError.invalidRequest(err.message, undefined, "invalid_key_request");
  }
}

async function readJson(io: EndpointIo): Promise<Record<string, unknown>> {
  const tooLarge = () => GatewayError.bodyTooLarge(MAX_BODY_BYTES);
  const bytes = await readBody(io.req, { maxBytes: MAX_BODY_BYTES, overLimit: tooLarge, closedEarly: GatewayError.clientClosed });
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw GatewayError.invalidRequest("the request body is not valid JSON", undefined, "invalid_json");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw GatewayError.invalidRequest("the request body must be a JSON object", undefined, "invalid_body");
  return value as Record<string, unknown>;
}

const NEW_KEY_FIELDS = ["id", "tenant", "role", "models", "pipelines", "expiresAt", "description"];

/** `{ id, tenant, role?, models?, pipelines?, expiresAt?, description? }`, each checked here; the keys file's own schema checks the rest. */
function newKeyFrom(body: Record<string, unknown>): NewKey {
  const unknown = Object.keys(body).find((k) => !NEW_KEY_FIELDS.includes(k));
  if (unknown !== undefined) throw GatewayError.invalidRequest(`unknown field "${unknown}" (known: ${NEW_KEY_FIELDS.join(", ")})`, unknown, "invalid_key_request");
  const text = (name: string, required: boolean): string | undefined => {
    const v = body[name];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v.trim() === "") throw GatewayError.invalidRequest(`${name} must be a non-empty string`, name, "invalid_key_request");
    return v;
  };
  const list = (name: string): string[] | undefined => {
    const v = body[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== "string" || s.trim() === "")) throw GatewayError.invalidRequest(`${name} must be a list of non-empty strings`, name, "invalid_key_request");
    return [...new Set(v as string[])];
  };
  const spec: NewKey = { id: text("id", true)!, tenant: text("tenant", true)! };
  const optional = { role: text("role", false), models: list("models"), pipelines: list("pipelines"), expiresAt: text("expiresAt", false), description: text("description", false) };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(spec, { [k]: v });
  return spec;
}

function pathSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw GatewayError.invalidRequest("the key id in the path is not valid percent-encoding", undefined, "invalid_path");
  }
}

function ok(body: unknown): Answer {
  return { status: 200, body };
}

function notFound(x: Exchange): GatewayError {
  return new GatewayError({ status: 404, type: "not_found", code: "unknown_admin_call", source: PLUGIN, message: `no admin call ${x.route.method} ${x.inbound.path}` });
}

let page: string | undefined;

/** The page shipped beside this file; from dist/, the source folder's copy (tsc does not copy HTML). */
function dashboardPage(): string {
  if (page !== undefined) return page;
  for (const candidate of ["./dashboard.html", "../../../plugins/admin-api/dashboard.html"]) {
    try {
      return (page = readFileSync(new URL(candidate, import.meta.url), "utf8"));
    } catch {} // the next place
  }
  throw new GatewayError({ status: 500, type: "internal", code: "dashboard_missing", source: PLUGIN, message: "the dashboard page is missing from the installation" });
}
