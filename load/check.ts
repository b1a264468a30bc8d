/**
 * `switchyard check`: every problem in the given pipeline files, as `file:line:col: message`
 * lines an editor or CI log can jump to. Nothing is started and no secret value is printed.
 */
import { relative, resolve } from "node:path";
import type { Problem } from "./json-locations.js";
import { loadPipelines, type LoaderFs } from "./load-pipelines.js";
import type { PluginRegistry } from "./registry.js";

export async function checkPipelines(
  paths: string[],
  registry: PluginRegistry,
  fs?: LoaderFs,
  env?: Record<string, string | undefined>,
): Promise<Problem[]> {
  const { problems } = await loadPipelines(paths, { registry, fs, env, checkPlugins: true });
  return problems;
}

/** `file:line:col: message`, the file relative to the working folder. */
export function formatProblem(problem: Problem): string {
  const file = relative(process.cwd(), resolve(problem.file)) || problem.file;
  return `${file}:${problem.line}:${problem.col}: ${problem.message}`;
}
