#!/usr/bin/env node
/**
 * switchyard serve | check | plugins | help, and the commands plugins contribute (`keys` from
 * auth-api-key…), found through the registry so that core names no plugin.
 */
import { parseArgs } from "node:util";
import { checkPipelines, formatProblem } from "../load/check.js";
import { assembleGateway } from "./assemble.js";
import { listenerFactory, type ListenerLimits } from "./listener.js";
import { GatewayServer } from "../core/serve/server.js";
import { EXPLAIN_USAGE, explainCommand } from "./explain.js";
import { SIMULATE_USAGE, simulateCommand } from "./simulate.js";
import { createLogger } from "../lib/log.js";
import { describeCommands, describePlugins } from "./plugin-catalog.js";
import { PluginRegistry, type RegisteredCommand } from "../load/registry.js";

const SERVE_USAGE = `  switchyard serve [files|dirs...] [--port N] [--host H] [--admin-port N] [--admin-host H] [--drain-ms N]
                   [--headers-timeout-ms N] [--request-timeout-ms N] [--max-connections N] [--max-connections-per-client N]
      serve pipeline files (a dir serves its *.pipeline.json); default dir: pipelines. A changed
      pipeline file, SIGHUP or POST /admin/reload reloads them (an invalid one keeps the old serving)
      defaults: --host 127.0.0.1 (env HOST), --port 8080 (env PORT); a client sends its headers within
      10000 ms and its whole request within 15000 ms (408 past them); 10000 connections per listener,
      512 per client address (503 too_many_connections past them)
      --admin-port N (env ADMIN_PORT): operator routes (admin API, dashboard, admin-only /metrics) are
      served on a second listener on port N (host --admin-host, env ADMIN_HOST, default --host)
      instead; the main port answers them 404. Probes stay on the main port`;

const USAGE = `usage:
${SERVE_USAGE}
  switchyard check [files|dirs...]
      report every problem as file:line:col: message; exit 1 if any
${EXPLAIN_USAGE}
${SIMULATE_USAGE}
  switchyard plugins
      list plugins with their config fields
  switchyard help
      this text, with the commands plugins contribute`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serve(rest);
    case "check":
      return check(rest);
    case "explain":
      return explainCommand(rest, await PluginRegistry.builtIn());
    case "simulate":
      return simulateCommand(rest, await PluginRegistry.builtIn());
    case "plugins":
      process.stdout.write(describePlugins(await PluginRegistry.builtIn()) + "\n");
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(await usage());
      return command === undefined ? 1 : 0;
    default: {
      const registry = await PluginRegistry.builtIn();
      const contributed = registry.command(command);
      if (contributed) return contributed.command.run(rest);
      process.stderr.write(`unknown command "${command}"\n${describeUsage(registry.commands())}`);
      return 1;
    }
  }
}

/** The usage text; a plugin that fails to load is reported, not allowed to hide the core commands. */
async function usage(): Promise<string> {
  try {
    return describeUsage((await PluginRegistry.builtIn()).commands());
  } catch (err) {
    return `${USAGE}\n\nplugin commands unavailable: ${err instanceof Error ? err.message : String(err)}\n`;
  }
}

function describeUsage(commands: readonly RegisteredCommand[]): string {
  return `${USAGE}\n${describeCommands(commands)}`;
}

async function check(args: string[]): Promise<number> {
  const paths = args.length > 0 ? args : ["pipelines"];
  const problems = await checkPipelines(paths, await PluginRegistry.builtIn());
  for (const p of problems) process.stdout.write(formatProblem(p) + "\n");
  if (problems.length === 0) process.stdout.write(`ok: ${paths.join(", ")}\n`);
  return problems.length === 0 ? 0 : 1;
}

/** serve's flags for the listener's limits (cli/listener.ts). */
const LISTENER_FLAGS: Record<string, keyof ListenerLimits> = {
  "headers-timeout-ms": "headersTimeoutMs",
  "request-timeout-ms": "requestTimeoutMs",
  "max-connections": "maxConnections",
  "max-connections-per-client": "maxConnectionsPerClient",
};

/**
 * Keeps glibc from handing the heap's free top back to the kernel after every GC (issue 12). Each
 * socket read allocates a native backing store (64 KB, zero-filled); when V8 frees a batch of the
 * reply buffers, the free top of the heap passes glibc's trim threshold (128 KB to start with) and
 * goes back to the kernel, and the next reads fault it in again. Measured at 20 KB replies, in the
 * runs that fell into this state: 3.6 page faults and ~70 µs more CPU per request, ~3/4 of the faults
 * in that zero-fill. glibc raises the threshold to twice the largest mmap'd block freed so far (its
 * dynamic mmap threshold): one 16 MB block, dropped here and freed by the first GC, makes it 32 MB.
 * 1 MB was not enough. Elsewhere (musl, macOS) it is one short-lived block.
 */
function settleAllocator(): void {
  Buffer.allocUnsafeSlow(16 << 20);
}

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: "string" }, host: { type: "string" }, "drain-ms": { type: "string" }, help: { type: "boolean", short: "h" },
      "admin-port": { type: "string" }, "admin-host": { type: "string" },
      ...Object.fromEntries(Object.keys(LISTENER_FLAGS).map((flag) => [flag, { type: "string" as const }])),
    },
  });
  if (values.help) {
    process.stdout.write(`usage:\n${SERVE_USAGE}\n`);
    return 0;
  }
  const listener: Partial<ListenerLimits> = {};
  for (const [flag, limit] of Object.entries(LISTENER_FLAGS)) {
    const raw = (values as Record<string, string | undefined>)[flag];
    if (raw === undefined) continue;
    if (!/^[1-9][0-9]*$/.test(raw)) {
      process.stderr.write(`invalid --${flag} "${raw}": expected a positive whole number\n`);
      return 1;
    }
    listener[limit] = Number(raw);
  }
  const port = portOf("port", values.port ?? process.env.PORT ?? "8080");
  const adminRaw = values["admin-port"] ?? process.env.ADMIN_PORT;
  const adminPort = adminRaw === undefined || adminRaw === "" ? undefined : portOf("admin port", adminRaw);
  if (port === null || adminPort === null) return 1;
  const host = values.host ?? process.env.HOST ?? "127.0.0.1";
  const adminHost = values["admin-host"] ?? process.env.ADMIN_HOST ?? host;
  const drainMs = Number(values["drain-ms"] ?? 30_000);
  settleAllocator();
  const log = createLogger();
  const registry = await PluginRegistry.builtIn();
  const paths = positionals.length > 0 ? positionals : ["pipelines"];
  // Listening first: while the pipelines load (a store may take seconds to connect), /livez
  // answers and /startupz, /readyz say the gateway is starting.
  const server = new GatewayServer([], { log, createListener: listenerFactory(listener) });
  const stopListening = async (code: number) => (await server.drain(0), code);
  const address = await server.listen(port, host, adminPort === undefined ? "all" : "public");
  // The same server behind both: one route table, one drain; only which routes each listener answers differs.
  const adminAddress = adminPort === undefined ? undefined : await server.listen(adminPort, adminHost, "operator").catch(async (err: unknown) => {
    await server.drain(0);
    throw err;
  });
  const assembled = await assembleGateway(paths, { registry, log, listener, server }).catch(async (err: unknown) => {
    await server.drain(0);
    throw err;
  });
  if (!assembled.ok) {
    for (const p of assembled.problems) process.stderr.write(formatProblem(p) + "\n");
    return stopListening(1);
  }
  const { pipelines: compiled, reloader } = assembled;
  if (compiled.length === 0) {
    process.stderr.write(`no pipeline files found in ${paths.join(", ")} (expected *.pipeline.json)\n`);
    return stopListening(1);
  }
  reloader.listening({ port: address.port, ...(adminAddress ? { adminPort: adminAddress.port } : {}) });
  log.info({ host: address.address, port: address.port, ...(adminAddress ? { adminPort: adminAddress.port } : {}), pipelines: compiled.map((p) => p.id) }, "switchyard listening");
  process.stdout.write(`switchyard listening on http://${address.address}:${address.port} (${compiled.map((p) => p.id).join(", ")})\n`);
  if (adminAddress) process.stdout.write(`switchyard admin routes on http://${adminAddress.address}:${adminAddress.port}\n`);

  await reloader.watch();
  // SIGHUP reloads the pipeline files, as a changed file or POST /admin/reload does; it never stops the gateway.
  const reloadOnHangup = () => void reloader.reloadAfterCurrent("signal");
  process.on("SIGHUP", reloadOnHangup);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "draining");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  process.off("SIGHUP", reloadOnHangup);
  // No reload starts once draining begins; pipelines already swapped out close as their requests end.
  const reloaderClosed = reloader.close();
  const { unfinished } = await server.drain(drainMs);
  await reloaderClosed;
  log.info({ unfinished }, "stopped");
  return 0;
}

/** A port from a flag or the environment; null, after saying why, when it is not one. */
function portOf(what: string, raw: string): number | null {
  const port = /^[0-9]{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (port >= 0 && port <= 65535) return port;
  process.stderr.write(`invalid ${what} "${raw}": expected 0 to 65535\n`);
  return null;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let pino's async destination flush, then leave even if a stray handle remains.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`switchyard: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
