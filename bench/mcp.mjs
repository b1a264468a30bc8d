// The MCP scenario: tools/call round trips through switchyard's mcp route to an HTTP MCP server,
// against the same calls sent to that server directly, as a ratio in one run (bar: >= 0.80), and
// the gateway's memory per open MCP session. Clients are the official SDK's, as agents use it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { freePort, startServer } from "./processes.mjs";

const BAR = 0.8;

async function connect(url) {
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** `sessions` clients, each calling echo back to back until `deadline` or `budget` calls in all. */
async function roundTrips(url, { sessions, durationMs, budget, tool = "echo" }) {
  const clients = await Promise.all(Array.from({ length: sessions }, () => connect(url)));
  const latencies = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(clients.map(async (client) => {
    while (performance.now() < deadline && latencies.length + errors < budget) {
      const t = performance.now();
      try {
        await client.callTool({ name: tool, arguments: { text: "bench" } });
        latencies.push(performance.now() - t);
      } catch {
        errors += 1;
      }
    }
  }));
  const elapsedS = (performance.now() - started) / 1000;
  await Promise.allSettled(clients.map((c) => c.close()));
  latencies.sort((a, b) => a - b);
  const at = (q) => (latencies.length === 0 ? null : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
  return { rps: latencies.length / elapsedS, p50Ms: at(0.5), p99Ms: at(0.99), completed: latencies.length, errors };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runMcpScenario({ rootDir, benchDir, opts, log, pin }) {
  const scenario = { id: "mcp", n: 8, title: "MCP tools/call via the gateway vs direct, and memory per open session", status: "ok", rows: [] };
  const tmp = mkdtempSync(join(os.tmpdir(), "switchyard-bench-mcp-"));
  const upstream = await startServer({ name: "mcp-upstream", script: join(benchDir, "mcp-upstream.mjs"), probe: false, cpus: pin.others });
  let gateway;
  try {
    const pipelineFile = join(tmp, "mcp.pipeline.json");
    writeFileSync(pipelineFile, JSON.stringify({
      id: "bench-mcp",
      routes: ["POST", "GET", "DELETE"].map((method) => ({ method, path: "/mcp", format: "mcp", endpoint: "mcp" })),
      backends: { remote: { use: "provider-mcp-http", config: { url: "${env:BENCH_MCP_UPSTREAM}" } } },
      steps: [{ use: "mcp-gateway", config: { prefixes: { remote: "r" } } }],
    }));
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    gateway = await startServer({
      name: "switchyard", script: join(rootDir, "dist/cli/main.js"), args: ["serve", pipelineFile, "--port", String(port), "--host", "127.0.0.1"],
      env: { BENCH_MCP_UPSTREAM: upstream.url, LOG_LEVEL: opts.logLevel }, ready: { url: `${baseUrl}/readyz`, baseUrl }, cpus: pin.server,
    });
    const sessions = Math.min(opts.connections, 16);
    const load = { sessions, durationMs: opts.duration * 1000, budget: opts.smoke ? opts.smokeRequests : Number.POSITIVE_INFINITY };
    const runs = { direct: [], gateway: [] };
    // Unmeasured calls first, as every other scenario warms up: without them both sides were still
    // speeding up through the five measured rounds (session 11: 240 -> 718 calls/s), so the ratio
    // said more about JIT warm-up than about the gateway.
    for (const target of ["direct", "gateway"]) {
      const warm = await roundTrips(target === "direct" ? upstream.url : `${baseUrl}/mcp`, { ...load, tool: target === "direct" ? "echo" : "r__echo", durationMs: 60_000, budget: opts.warmup });
      log(`[mcp] warm-up ${target}: ${warm.completed} calls, ${warm.errors} errors`);
    }
    for (let round = 0; round < opts.rounds; round++) {
      // Alternating which goes first, so neither always meets a warmer machine.
      const order = round % 2 === 0 ? ["direct", "gateway"] : ["gateway", "direct"];
      for (const target of order) {
        const run = await roundTrips(target === "direct" ? upstream.url : `${baseUrl}/mcp`, target === "direct" ? load : { ...load, tool: "r__echo" });
        runs[target].push(run);
        log(`[mcp] round ${round + 1} ${target}: ${run.rps.toFixed(0)} calls/s, ${run.errors} errors`);
      }
    }
    const summary = (list) => ({ rps: median(list.map((r) => r.rps)), p50Ms: median(list.map((r) => r.p50Ms)), p99Ms: median(list.map((r) => r.p99Ms)), errors: list.reduce((n, r) => n + r.errors, 0), completed: list.reduce((n, r) => n + r.completed, 0) });
    const direct = summary(runs.direct);
    const through = summary(runs.gateway);
    const ratio = through.rps / direct.rps;
    const ok = (s) => (s.errors === 0 ? "ok" : "failed");
    scenario.rows.push({ scenario: "mcp", variant: `tools/call x${sessions} sessions`, target: "direct", kind: "mcp", status: ok(direct), ...direct, reason: direct.errors ? `${direct.errors} errors` : undefined });
    scenario.rows.push({
      scenario: "mcp", variant: `tools/call x${sessions} sessions`, target: "switchyard", kind: "mcp", status: ok(through), ...through, ratio, rssKB: (await gateway.memory()).rssKB,
      reason: through.errors ? `${through.errors} errors` : undefined, bar: opts.smoke ? { met: null } : { met: ratio >= BAR, text: `>= ${BAR} x direct` },
    });
    scenario.rows.push(await memoryPerSession(gateway, `${baseUrl}/mcp`, opts.smoke ? 20 : 500));
  } catch (err) {
    scenario.status = "failed";
    scenario.reason = String(err.message ?? err);
  } finally {
    await gateway?.stop();
    await upstream.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  if (scenario.rows.some((r) => r.status === "failed")) scenario.status = "failed";
  return scenario;
}

/** The gateway's RSS and heap growth per open session (each with its upstream session), after a GC on both sides of the count. */
async function memoryPerSession(gateway, url, count) {
  const before = await gateway.memory({ gc: true });
  const clients = [];
  for (let i = 0; i < count; i++) {
    const client = await connect(url);
    await client.callTool({ name: "r__echo", arguments: { text: "open" } });
    clients.push(client);
  }
  const after = await gateway.memory({ gc: true });
  await Promise.allSettled(clients.map((c) => c.close()));
  const perSessionKB = Math.round((after.rssKB - before.rssKB) / count);
  const perSessionHeapKB = after.heapUsed === null || before.heapUsed === null ? null : Math.round((after.heapUsed - before.heapUsed) / 1024 / count);
  return { scenario: "mcp", variant: `${count} open sessions`, target: "switchyard", kind: "mcp-memory", status: "ok", rssKB: after.rssKB, extra: { perSessionKB, perSessionHeapKB, openSessions: count } };
}
