/**
 * Which tools a caller may see and call: the `access` rules of the config, compiled once. Every
 * rule that applies to the caller (by key id and tenant) must let the tool through.
 */
import { compileGlob, type Exchange } from "../../core/index.js";
import type { McpGatewayConfig } from "./config.generated.js";

type Match = (text: string) => boolean;

interface AccessRule {
  keys?: Match;
  tenants?: Match;
  allow?: Match;
  deny?: Match;
}

const anyOf = (globs: readonly string[] | undefined): Match | undefined => {
  if (globs === undefined) return undefined;
  const matchers = globs.map((g) => compileGlob(g, { acrossSlashes: true }));
  return (text) => matchers.some((m) => m(text));
};

export type ToolFilter = (tool: string) => boolean;

export function compileAccess(rules: NonNullable<McpGatewayConfig["access"]>): (caller: Pick<Exchange, "keyId" | "tenant">) => ToolFilter {
  const compiled: AccessRule[] = rules.map((r) => ({ keys: anyOf(r.keys), tenants: anyOf(r.tenants), allow: anyOf(r.allow), deny: anyOf(r.deny) }));
  const everything: ToolFilter = () => true;
  return (caller) => {
    // A rule naming keys or tenants does not apply to a caller without one (no auth step).
    const applying = compiled.filter((r) => (r.keys === undefined || (caller.keyId !== undefined && r.keys(caller.keyId))) && (r.tenants === undefined || (caller.tenant !== undefined && r.tenants(caller.tenant))));
    if (applying.length === 0) return everything;
    return (tool) => applying.every((r) => (r.allow === undefined || r.allow(tool)) && !(r.deny?.(tool) ?? false));
  };
}
