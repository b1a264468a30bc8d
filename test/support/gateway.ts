/**
 * Starts a real gateway in this process on 127.0.0.1:0 from pipeline files written to a temp dir
 * (plus any side files: keys, pricing), exactly as `switchyard serve` would load them.
 */
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { assembleGateway } from "../../cli/assemble.js";
import type { ListenerLimits } from "../../cli/listener.js";
import { silentLogger } from "../../lib/log.js";
import type { Logger } from "../../core/contract/log.js";
import type { GatewayServer } from "../../core/serve/server.js";
import type { PipelineReloader } from "../../cli/reload.js";
import { formatProblem } from "../../load/check.js";
import { PluginRegistry } from "../../load/registry.js";

export interface TestGateway {
  url: string;
  dir: string;
  server: GatewayServer;
  /** Reloads the same files (as a changed file, SIGHUP or POST /admin/reload would). */
  reloader: PipelineReloader;
  close(): Promise<void>;
}

let registry: Promise<PluginRegistry> | undefined;
export const builtInRegistry = () => (registry ??= PluginRegistry.builtIn());

/** `files` maps relative paths to contents (objects are written as JSON). */
/** `log`: where the gateway logs (silent by default), for tests that read its log lines. */
export async function startGateway(files: Record<string, unknown>, env?: Record<string, string>, listener?: Partial<ListenerLimits>, log: Logger = silentLogger): Promise<TestGateway> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-test-"));
  const pipelineFiles: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
    if (name.endsWith(".pipeline.json")) pipelineFiles.push(path);
  }
  const assembled = await assembleGateway(pipelineFiles, { registry: await builtInRegistry(), log, env: { ...process.env, ...env }, listener });
  if (!assembled.ok) throw new Error(assembled.problems.map(formatProblem).join("\n"));
  const { server, reloader } = assembled;
  const address = await server.listen(0, "127.0.0.1");
  return {
    url: `http://127.0.0.1:${address.port}`,
    dir,
    server,
    reloader,
    close: async () => {
      await server.drain(2_000);
      await reloader.close();
    },
  };
}

/** sha256 hash entry for a keys file, as `auth-api-key` stores keys. */
export async function keysFile(keys: { key: string; id: string; tenant: string; role?: "admin" }[]): Promise<unknown> {
  const { createHash } = await import("node:crypto");
  return { keys: keys.map((k) => ({ id: k.id, tenant: k.tenant, ...(k.role ? { role: k.role } : {}), hash: `sha256:${createHash("sha256").update(k.key).digest("hex")}` })) };
}
