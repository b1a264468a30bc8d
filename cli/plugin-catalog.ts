/**
 * `switchyard plugins`: what each installed plugin is and how to configure it, read from the
 * plugin's own config schema so the listing can never drift from what the loader accepts.
 * Also the plugin-contributed part of `switchyard help`.
 */
import type { JsonSchema, Plugin } from "../core/contract/plugin.js";
import { isObject } from "../core/contract/json-object.js";
import type { PluginRegistry, RegisteredCommand } from "../load/registry.js";
import { resolveFileRef } from "../lib/schema/check-config.js";

interface Field {
  name: string;
  summary: string;
  description: string;
}

const SECTIONS: { kind: Plugin["kind"]; title: string }[] = [
  { kind: "step", title: "Step plugins (steps[].use)" },
  { kind: "provider", title: "Provider plugins (backends.<id>.use)" },
  { kind: "format", title: "Format plugins (routes[].format)" },
];

export function describePlugins(registry: PluginRegistry): string {
  const plugins = registry.list();
  const out: string[] = [];
  for (const { kind, title } of SECTIONS) {
    const ofKind = plugins.filter((p) => p.kind === kind);
    if (ofKind.length === 0) continue;
    if (out.length > 0) out.push("");
    out.push(title);
    for (const plugin of ofKind) {
      out.push("");
      const format = plugin.kind === "format" && plugin.format !== plugin.name ? ` [format ${plugin.format}]` : "";
      out.push(`  ${plugin.name} (${plugin.kind})${format}: ${plugin.description}`);
      const commands = Object.keys(plugin.commands ?? {});
      if (commands.length > 0) out.push(`    commands: ${commands.map((c) => `switchyard ${c}`).join(", ")} (see switchyard help)`);
      for (const [kind, spec] of Object.entries(plugin.kind === "step" ? (plugin.endpoints ?? {}) : {})) {
        out.push(`    answers routes with "endpoint": "${kind}"${spec.admin ? " (admin keys only)" : ""}: ${spec.description}`);
      }
      const fields: Field[] = [];
      collectFields(plugin.configSchema, plugin.configSchema, "", fields);
      if (fields.length === 0) out.push("    no config");
      const width = Math.max(0, ...fields.map((f) => f.name.length));
      for (const f of fields) out.push(`    ${f.name.padEnd(width)}  ${f.summary}${f.description ? `: ${f.description}` : ""}`);
    }
  }
  return out.length > 0 ? `${out.join("\n")}\n` : "no plugins installed\n";
}

/** The `switchyard help` lines for the commands plugins contribute (empty when there are none). */
export function describeCommands(commands: readonly RegisteredCommand[]): string {
  const out: string[] = [];
  for (const { name, plugin, command } of commands) {
    out.push(`  switchyard ${name}    (from ${plugin})`);
    for (const line of command.description.split("\n")) out.push(`      ${line}`);
  }
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}

/** Properties as dotted names (`fallback.maxAttempts`, `rules[].model`), nested objects included. */
function collectFields(schema: JsonSchema, root: JsonSchema, prefix: string, out: Field[], open = new Set<JsonSchema>()): void {
  // A recursive schema (a tree of rules) is listed down to its first repetition.
  if (open.has(schema)) return;
  open.add(schema);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  for (const [name, raw] of Object.entries(properties)) {
    const property = deref(raw, root);
    const dotted = prefix ? `${prefix}.${name}` : name;
    const parts = [typeText(property, root)];
    if (required.has(name)) parts.push("required");
    if (property.default !== undefined) parts.push(`default ${JSON.stringify(property.default)}`);
    out.push({ name: dotted, summary: parts.join(", "), description: typeof property.description === "string" ? property.description : "" });
    if (property.properties) collectFields(property, root, dotted, out, open);
    const items = property.items ? deref(property.items as JsonSchema, root) : undefined;
    if (items?.properties) collectFields(items, root, `${dotted}[]`, out, open);
  }
  open.delete(schema);
}

function typeText(schema: JsonSchema, root: JsonSchema): string {
  const s = deref(schema, root);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alternatives = (s.oneOf ?? s.anyOf) as JsonSchema[] | undefined;
  if (Array.isArray(alternatives)) return alternatives.map((a) => typeText(a, root)).join(" | ");
  const type = Array.isArray(s.type) ? (s.type as string[]).join(" | ") : typeof s.type === "string" ? s.type : "any";
  if (type === "array" && s.items && typeof s.items === "object") return `array of ${typeText(s.items as JsonSchema, root)}`;
  return type;
}

/**
 * Follows a local `#/definitions/X` or `#/$defs/X` reference, or one to a shared schema file
 * (schemas/upstream.schema.json); keywords beside the `$ref` (a default) win over the target's.
 */
function deref(schema: JsonSchema, root: JsonSchema, hops = 0): JsonSchema {
  const { $ref: ref, ...beside } = schema;
  if (hops > 16 || typeof ref !== "string") return schema;
  let node: unknown = root;
  if (ref.startsWith("#/")) {
    for (const segment of ref.slice(2).split("/")) node = (node as Record<string, unknown> | undefined)?.[segment.replace(/~1/g, "/").replace(/~0/g, "~")];
  } else {
    node = resolveFileRef(root, ref);
  }
  if (!isObject(node)) return schema;
  const target = deref(node, root, hops + 1);
  // The target itself when nothing sits beside the $ref: collectFields tells recursion by identity.
  return Object.keys(beside).length === 0 ? target : { ...target, ...beside };
}
