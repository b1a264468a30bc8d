/**
 * The routes of one set of pipelines, built once. A reload swaps in a new table in one assignment; a request
 * keeps the table it started on: its pipeline, and the in-flight set the old pipelines wait on before they close.
 */
import { METHODS } from "node:http";
import Router from "@koa/router";
import type { RouteInfo } from "../contract/exchange.js";
import type { FormatTranslator } from "../contract/format.js";
import type { CompiledPipeline } from "../engine/compile.js";

/** RouteInfo.method of a prefix route that names no method: it takes every one. */
export const ANY_METHOD = "*";
/** A route path with no parameters or patterns: matched by string equality. */
const LITERAL_PATH = /^\/[A-Za-z0-9._~\/-]*$/;

export type RouteMatch = { pipeline: CompiledPipeline; route: RouteInfo; format: FormatTranslator; params: Record<string, string> };

export class RouteTable {
  readonly inFlight = new Set<Promise<void>>();
  private readonly router = new Router();
  private readonly exact = new Map<string, RouteMatch>();
  private readonly mounted = new Map<unknown, RouteMatch>();

  constructor(readonly pipelines: readonly CompiledPipeline[]) {
    // The first matching route takes a request: exact routes first, then prefixes, longest first.
    const routes = pipelines.flatMap((pipeline) => pipeline.routes.map((route) => ({ pipeline, route, format: pipeline.formats.get(route.format)!, params: {} })));
    const prefixes = routes.filter(({ route }) => route.prefix).sort((a, b) => prefixOf(b.route.path).length - prefixOf(a.route.path).length);
    for (const entry of [...routes.filter(({ route }) => !route.prefix), ...prefixes]) {
      const route = entry.route;
      this.mounted.set(this.router.register(route.prefix ? prefixPattern(route.path) : route.path, route.method === ANY_METHOD ? METHODS : [route.method], () => undefined), entry);
      const key = `${route.method} ${route.path}`;
      if (!route.prefix && LITERAL_PATH.test(route.path) && !this.exact.has(key)) this.exact.set(key, entry);
    }
  }

  /** The one route lookup, for every way a request arrives: plain-string paths by one map lookup, the rest as @koa/router matches them. */
  lookup(method: string, path: string): RouteMatch | undefined {
    const exact = this.exact.get(`${method} ${path}`);
    const layer = exact ? undefined : this.router.match(path, method).pathAndMethod[0];
    return layer ? { ...this.mounted.get(layer)!, params: layer.params(path, layer.captures(path)) } : exact;
  }

  /** For errors on paths no route claims: the format of the route sharing the longest prefix. */
  formatNear(path: string): FormatTranslator | undefined {
    return [...this.mounted.values()].reduce<RouteMatch | undefined>((acc, r) => (commonPrefix(r.route.path, path) > (acc ? commonPrefix(acc.route.path, path) : -1) ? r : acc), undefined)?.format;
  }
}

/** An http route's path without trailing slashes: `/api/` and `/api` are the same prefix. */
function prefixOf(path: string): string {
  return path.replace(/\/+$/, "");
}

/** The prefix and everything below it, in path-to-regexp v8 syntax: `/api` -> `/api{/*rest}`. */
function prefixPattern(path: string): string {
  const prefix = prefixOf(path);
  return prefix === "" ? "/{*rest}" : `${prefix}{/*rest}`;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
