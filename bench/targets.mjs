// What the bench measures: the floor (bare proxy), switchyard, and optionally another gateway
// found installed locally. Each target starts fresh for every scenario, so its RSS belongs to
// that scenario alone. start({ upstream, scenario, cpus, launch }) hands `cpus` (a taskset list, or
// null) to startServer, so the measured server runs where the harness pins it, and `launch` (extra
// startServer options: wrap, nodeOptions, timeoutMs), so bench/instructions.mjs can run it under valgrind.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { freePort, startServer } from "./processes.mjs";

/** Thrown by a target that honestly cannot run a scenario: the row is reported as skipped. */
export class Skip extends Error {}

export function floorTarget({ benchDir }) {
  return {
    name: "floor",
    supports: () => true,
    adapt: (request) => request,
    start: ({ upstream, cpus, launch }) =>
      startServer({ name: "bare-proxy", script: join(benchDir, "bare-proxy.mjs"), args: ["--upstream", upstream.url], cpus, ...launch }),
  };
}

/**
 * switchyard as `npm start` would run it, serving the scenario's bench pipeline. When the build
 * is missing every switchyard row is skipped; when the gateway rejects a pipeline that depends on
 * a format not built yet (scenario.optionalPipeline), that scenario's row is skipped.
 */
export function switchyardTarget({ rootDir, benchDir, recordsFile, logLevel }) {
  const cli = join(rootDir, "dist/cli/main.js");
  const missing = existsSync(cli) ? null : "not built: dist/cli/main.js is missing (npm run build makes it)";
  return {
    name: "switchyard",
    missing,
    supports: () => true,
    adapt: (request) => request,
    async start({ upstream, scenario, cpus, launch }) {
      if (missing) throw new Skip(missing);
      const pipelineFile = join(benchDir, "pipelines", `${scenario.pipeline}.pipeline.json`);
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      try {
        return await startServer({
          name: "switchyard",
          script: cli,
          // Every bench client comes from 127.0.0.1: the per-address connection limit (512 by
          // default, a guard against one greedy client) would refuse the held streams past it.
          args: ["serve", pipelineFile, "--port", String(port), "--host", "127.0.0.1", "--max-connections", "20000", "--max-connections-per-client", "20000"],
          env: {
            BENCH_UPSTREAM: `${upstream.url}/v1`,
            BENCH_UPSTREAM_ORIGIN: upstream.url,
            BENCH_RECORDS: recordsFile,
            LOG_LEVEL: logLevel,
          },
          ready: { url: `${baseUrl}/readyz`, baseUrl },
          cpus,
          ...launch,
        });
      } catch (err) {
        if (scenario.optionalPipeline) throw new Skip(`${scenario.optionalPipeline}; the gateway did not serve ${relative(rootDir, pipelineFile)}: ${firstLines(err.message)}`);
        throw err;
      }
    },
  };
}

const firstLines = (text) => text.split("\n").filter(Boolean).slice(0, 4).join(" | ").slice(0, 400);

/**
 * Another gateway for an extra column, only when installed in this checkout's node_modules:
 * Portkey's AI gateway (@portkey-ai/gateway), pointed at the bench upstream through its
 * custom-host header. It speaks OpenAI chat only here, so it runs the OpenAI-format scenarios.
 */
export function otherTargets({ rootDir }) {
  const require = createRequire(join(rootDir, "package.json"));
  let pkgFile;
  try {
    pkgFile = require.resolve("@portkey-ai/gateway/package.json");
  } catch {
    return [];
  }
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
  const bin = typeof pkg.bin === "string" ? pkg.bin : Object.values(pkg.bin ?? {})[0];
  if (!bin) return [];
  const script = join(dirname(pkgFile), bin);
  let upstreamUrl = "";
  return [
    {
      name: `portkey ${pkg.version}`,
      supports: (scenario) => ["chat", "stream", "hold"].includes(scenario.id),
      adapt: (request) => ({
        ...request,
        headers: { ...request.headers, "x-portkey-provider": "openai", "x-portkey-custom-host": `${upstreamUrl}/v1` },
      }),
      async start({ upstream, cpus }) {
        upstreamUrl = upstream.url;
        const port = await freePort();
        const baseUrl = `http://127.0.0.1:${port}`;
        return startServer({
          name: "portkey",
          script,
          args: [`--port=${port}`, "--headless"],
          env: { NODE_ENV: "production" },
          ready: { url: `${baseUrl}/`, baseUrl, accept: (status) => status < 500 },
          cpus,
        });
      },
    },
  ];
}
