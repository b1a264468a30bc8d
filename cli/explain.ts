/**
 * `switchyard explain PIPELINE_FILE_OR_DIR REQUEST.json [--header k:v]… [--tenant T] [--path P]
 * [--method M] [--json]`: loads and compiles the pipelines as `serve` would, finds the route the
 * request takes, and prints the dry run (lib/explain) without sending anything upstream or
 * reserving anything. REQUEST.json is a request body, or `{ method?, path, headers?, body }`.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { isObject } from "../core/contract/json-object.js";
import { prepareRequest } from "../core/engine/attempts.js";
import { compilePipeline, type CompiledPipeline } from "../core/engine/compile.js";
import { explainRequest, type ExplainInput } from "../lib/explain/explain-request.js";
import { matchRoute } from "../lib/explain/match-route.js";
import { renderExplanation } from "../lib/explain/render.js";
import { silentLogger } from "../lib/log.js";
import { openStateStore } from "../lib/state/open.js";
import { formatProblem } from "../load/check.js";
import { loadPipelines } from "../load/load-pipelines.js";
import type { PluginRegistry } from "../load/registry.js";

export const EXPLAIN_USAGE = `  switchyard explain PIPELINE_FILE_OR_DIR REQUEST.json [--header k:v]... [--tenant T] [--path P] [--method M] [--json]
      what the pipeline would do with the request (route, steps, auth, plan, translation, limits),
      sending nothing upstream and reserving nothing; REQUEST.json is a body or {method, path, headers, body}`;

type Output = { write(text: string): unknown };

export async function explainCommand(args: string[], registry: PluginRegistry, out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { header: { type: "string", multiple: true }, tenant: { type: "string" }, path: { type: "string" }, method: { type: "string" }, json: { type: "boolean" } },
  });
  if (positionals.length !== 2) {
    err.write(`usage:\n${EXPLAIN_USAGE}\n`);
    return 1;
  }
  const [pipelinePath, requestFile] = positionals as [string, string];
  let input: ExplainInput;
  try {
    input = readInput(JSON.parse(await readFile(requestFile, "utf8")), values.header ?? []);
  } catch (e) {
    err.write(`${requestFile}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  if (values.path !== undefined) input.path = values.path;
  if (values.method !== undefined) input.method = values.method;
  if (values.tenant !== undefined) input.tenant = values.tenant;

  const { pipelines: loaded, problems } = await loadPipelines([pipelinePath], { registry });
  if (problems.length > 0) {
    for (const p of problems) err.write(formatProblem(p) + "\n");
    return 1;
  }
  const compiled: CompiledPipeline[] = [];
  try {
    for (const l of loaded) compiled.push(await compilePipeline(l, { log: silentLogger, openStore: openStateStore }));
    const method = (input.method ?? "POST").toUpperCase();
    const pipeline = compiled.find((p) => matchRoute(p.routes, method, input.path) !== undefined) ?? compiled[0];
    if (!pipeline) {
      err.write(`no pipeline files found in ${pipelinePath} (expected *.pipeline.json)\n`);
      return 1;
    }
    const explanation = await explainRequest({ pipeline, hooks: pipeline.hooks, formats: pipeline.formats, prepareRequest: (attempt, x) => prepareRequest(pipeline, x, attempt) }, input);
    out.write(values.json ? JSON.stringify(explanation, null, 2) + "\n" : renderExplanation(explanation));
    return 0;
  } finally {
    await Promise.allSettled(compiled.map((p) => p.close()));
  }
}

/** A body, or an envelope with `path` and `body`; `--header k:v` flags add to (and override) its headers. */
function readInput(json: unknown, headerFlags: string[]): ExplainInput {
  if (!isObject(json)) throw new Error("the request must be a JSON object: a body, or { method, path, headers, body }");
  const envelope = typeof json.path === "string" && isObject(json.body);
  const headers: Record<string, string> = {};
  if (envelope && isObject(json.headers)) for (const [k, v] of Object.entries(json.headers)) headers[k.toLowerCase()] = String(v);
  for (const flag of headerFlags) {
    const at = flag.indexOf(":");
    if (at <= 0) throw new Error(`--header "${flag}": expected name:value`);
    headers[flag.slice(0, at).trim().toLowerCase()] = flag.slice(at + 1).trim();
  }
  if (!envelope) return { body: json, headers };
  return { method: typeof json.method === "string" ? json.method : undefined, path: json.path as string, headers, body: json.body as Record<string, unknown> };
}
