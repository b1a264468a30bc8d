/**
 * Which route of a pipeline takes a method and path, as the server's router decides: exact routes
 * before prefixes (longest first), letters in any case, trailing slashes ignored, `:name`
 * segments taking one segment each. For explain, which has no server to ask.
 */
import { GENERATE_ENDPOINT, type RouteInfo } from "../../core/index.js";

const key = (path: string) => path.toLowerCase().replace(/(.)\/+$/, "$1");

/** The route and its parameters; without a path, the pipeline's first model route. */
export function matchRoute(routes: readonly RouteInfo[], method: string, path: string | undefined): { route: RouteInfo; params: Record<string, string> } | undefined {
  if (path === undefined) {
    const route = routes.find((r) => r.endpoint === GENERATE_ENDPOINT);
    return route && { route, params: {} };
  }
  const wanted = key(path.split("?", 1)[0]!);
  for (const route of routes.filter((r) => !r.prefix)) {
    if (route.method !== method) continue;
    const params = matchSegments(key(route.path), wanted, path);
    if (params) return { route, params };
  }
  const prefixes = routes.filter((r) => r.prefix && (r.method === "*" || r.method === method)).sort((a, b) => b.path.length - a.path.length);
  const route = prefixes.find((r) => {
    const prefix = key(r.path).replace(/\/$/, "");
    return wanted === prefix || wanted.startsWith(`${prefix}/`) || prefix === "";
  });
  return route && { route: { ...route, method }, params: {} };
}

function matchSegments(pattern: string, wanted: string, original: string): Record<string, string> | undefined {
  const want = wanted.split("/");
  const have = pattern.split("/");
  if (want.length !== have.length) return undefined;
  const raw = original.split("?", 1)[0]!.replace(/(.)\/+$/, "$1").split("/");
  const params: Record<string, string> = {};
  for (let i = 0; i < have.length; i++) {
    if (have[i]!.startsWith(":")) params[have[i]!.slice(1)] = decodeURIComponent(raw[i]!);
    else if (have[i] !== want[i]) return undefined;
  }
  return params;
}
