/**
 * A pipeline file's routes: which endpoint each one names and whether a step of the pipeline
 * answers it, how it matches (exact path, or prefix over every method), and the method+path
 * claims that must be unique across every file loaded together.
 */
import { GENERATE_ENDPOINT } from "../core/contract/endpoint.js";
import type { RouteInfo } from "../core/contract/exchange.js";
import type { Pipeline } from "../core/contract/generated/pipeline.js";
import { isObject } from "../core/contract/json-object.js";
import type { LoadedStep } from "../core/contract/loaded-pipeline.js";
import type { EndpointSpec } from "../core/contract/plugin.js";
import { joinPointer, type PointerIssue } from "./json-locations.js";
import type { PluginRegistry } from "./registry.js";

/**
 * How request paths compare, as the router matches them: letters in any case, trailing slashes
 * ignored. Route claims and `when.path` conditions use it, so both agree with the router.
 */
export function routeKey(path: string): string {
  return path.toLowerCase().replace(/(.)\/+$/, "$1");
}

/** Pipeline ids and routes must be unique across every file loaded together. */
export class Claims {
  private readonly owners = new Map<string, string>();

  /** Records `where` as the owner of `key`; returns the earlier owner's location if there was one. */
  claim(key: string, where: string): string | undefined {
    const first = this.owners.get(key);
    if (first === undefined) this.owners.set(key, where);
    return first;
  }
}

/** The endpoint kinds the pipeline's steps declare, each with its declaration and the step that made it. */
type DeclaredEndpoints = ReadonlyMap<string, { spec: EndpointSpec; plugin: string }>;

export function declaredEndpoints(steps: readonly LoadedStep[], issues: PointerIssue[]): DeclaredEndpoints {
  const declared = new Map<string, { spec: EndpointSpec; plugin: string }>();
  steps.forEach((step) => {
    for (const [kind, spec] of Object.entries(step.plugin.endpoints ?? {})) {
      const first = declared.get(kind);
      if (first === undefined) declared.set(kind, { spec, plugin: step.use });
      else if (first.plugin !== step.use) {
        // Two steps may both answer a kind (under different `when`s) only if they read it alike.
        const same = first.spec.body === spec.body && (first.spec.match ?? "exact") === (spec.match ?? "exact") && !first.spec.admin === !spec.admin && !first.spec.operator === !spec.operator;
        if (!same) issues.push({ pointer: joinPointer("/steps", step.index, "use"), message: `${step.use} and ${first.plugin} both answer endpoint "${kind}" but declare it differently` });
      }
    }
  });
  return declared;
}

export function routeInfo(r: Pipeline["routes"][number], methodless: boolean, endpoints: DeclaredEndpoints): RouteInfo {
  const endpoint = r.endpoint ?? GENERATE_ENDPOINT;
  const spec = endpoint === GENERATE_ENDPOINT ? undefined : endpoints.get(endpoint)?.spec;
  const prefix = spec?.match === "prefix";
  const info: RouteInfo = { method: prefix && methodless ? "*" : (r.method ?? "POST"), path: r.path, format: r.format, endpoint, jsonBody: spec === undefined || spec.body === "json" };
  if (prefix) info.prefix = true;
  if (spec?.admin) info.admin = true;
  if (spec?.admin || spec?.operator) info.operator = true;
  return info;
}

/** Methods a route may name (the schema's enum): what a prefix route without a method claims. */
const ROUTE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** Indexes of the routes that name no method. */
export function routesNamingNoMethod(spec: Record<string, unknown>): Set<number> {
  const indexes = new Set<number>();
  if (!Array.isArray(spec.routes)) return indexes;
  spec.routes.forEach((route, i) => {
    if (isObject(route) && route.method === undefined) indexes.add(i);
  });
  return indexes;
}

/** Each route's endpoint is served and its format known; method+path claims are shared by all files loaded together. */
export function checkRoutes(spec: Record<string, unknown>, methodless: ReadonlySet<number>, endpoints: DeclaredEndpoints, ctx: { claims: Claims; registry: PluginRegistry }, where: (pointer: string) => string): PointerIssue[] {
  const issues: PointerIssue[] = [];
  const routes = Array.isArray(spec.routes) ? (spec.routes as unknown[]) : [];
  routes.forEach((route, i) => {
    if (!isObject(route)) return;
    const at = joinPointer("/routes", i);
    const endpoint = typeof route.endpoint === "string" ? route.endpoint : GENERATE_ENDPOINT;
    const declared = endpoint === GENERATE_ENDPOINT ? undefined : endpoints.get(endpoint);
    if (endpoint !== GENERATE_ENDPOINT && declared === undefined) {
      issues.push({ pointer: `${at}/endpoint`, message: unservedEndpoint(endpoint, ctx.registry) });
    }
    if (typeof route.format === "string") {
      if (!ctx.registry.formats.get(route.format)) {
        issues.push({ pointer: `${at}/format`, message: `unknown format "${route.format}"; known formats: ${ctx.registry.formats.list().join(", ")}` });
      } else if (declared?.spec.formats && !declared.spec.formats.includes(route.format)) {
        issues.push({ pointer: `${at}/format`, message: `endpoint "${endpoint}" (${declared.plugin}) answers in ${declared.spec.formats.join(", ")}, not ${route.format}` });
      }
    }
    if (typeof route.path !== "string" || typeof route.method !== "string") return;
    // Parameter names do not change which requests a route takes: /a/:x and /a/:y collide; nor do
    // case and trailing slashes, which the router ignores: /v1/x and /V1/X/ collide too.
    // An escaped colon is literal text, not a parameter: /m/:t\:embedContent and /m/:t\:batchEmbedContents differ.
    const shape = routeKey(route.path.replace(/(?<!\\):[A-Za-z_$][A-Za-z0-9_$]*/g, ":"));
    if (declared?.spec.match === "prefix") {
      // Prefixes claim apart from exact paths: /api (a prefix) and POST /api (an exact route) can live together, the exact one winning.
      for (const method of methodless.has(i) ? ROUTE_METHODS : [route.method]) {
        const first = ctx.claims.claim(`prefix ${method} ${shape}`, where(`${at}/path`));
        if (first) {
          issues.push({ pointer: `${at}/path`, message: `prefix route ${method} ${route.path} is already claimed at ${first}` });
          break;
        }
      }
      return;
    }
    const first = ctx.claims.claim(`route ${route.method} ${shape}`, where(`${at}/path`));
    if (first) issues.push({ pointer: `${at}/path`, message: `route ${route.method} ${route.path} is already claimed at ${first}` });
  });
  return issues;
}

/** Why a route's endpoint has no step, and which installed plugins would serve it. */
function unservedEndpoint(endpoint: string, registry: PluginRegistry): string {
  const servers = registry.list().filter((p) => p.kind === "step" && p.endpoints?.[endpoint] !== undefined).map((p) => p.name);
  if (servers.length > 0) return `no step of this pipeline answers endpoint "${endpoint}"; add a step that does: ${servers.map((n) => `{ "use": "${n}" }`).join(" or ")}`;
  const known = [GENERATE_ENDPOINT, ...new Set(registry.list().flatMap((p) => (p.kind === "step" ? Object.keys(p.endpoints ?? {}) : [])))];
  return `unknown endpoint "${endpoint}"; installed plugins answer ${known.join(", ")}`;
}
