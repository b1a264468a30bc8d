// `npm run bench`: starts the bench upstream, the floor (bare proxy), switchyard and any other
// gateway installed locally, each in its own process on loopback; runs the scenarios with
// floor and gateways alternating over several rounds; prints medians as a table (or --json).
// See bench/README.md for how to read it and the bar it is held to.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runMcpScenario } from "./mcp.mjs";
import { keptClients, sharedServers } from "./kept.mjs";
import { runScenario } from "./measure.mjs";
import { describeMetricsOverhead, metricsOverhead, withMetricsTarget } from "./metrics-overhead.mjs";
import { setUpPinning } from "./pinning.mjs";
import { clockTicksPerSec, startServer } from "./processes.mjs";
import { renderTable } from "./report.mjs";
import * as coreScenarios from "./scenarios.mjs";
import * as metricsScenarios from "./metrics-overhead.mjs";
import * as cacheScenarios from "./cache.mjs";
import { floorTarget, otherTargets, switchyardTarget } from "./targets.mjs";
import { runWebSocketScenario } from "./websocket.mjs";

/**
 * The scenario modules, in the order their scenarios run and are numbered. Each exports
 * `scenarios(opts)` returning a list of scenarios (see scenarios.mjs for their shape); a new
 * kind of traffic gets a module of its own, added here.
 */
const SCENARIO_MODULES = [coreScenarios, metricsScenarios, cacheScenarios];

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const rootDir = join(benchDir, "..");

const USAGE = `node bench/run.mjs [options]
  The issue-12 table (every default scenario, medians over 5 rounds; ~30 min on a quiet machine):
    npm run bench            (builds, then node bench/run.mjs with the defaults below)
  --smoke              about a hundred requests per run, small warmups, a short hold; exit 1 unless every
                       request completes with 0 errors (a check of the harness and the build, not a measure)
  --json               print the report as JSON instead of a table (progress goes to stderr)
  --scenario LIST      comma-separated ids or numbers (--list shows them); default all but soak
  --list               print the scenarios with their numbers and variants, and exit
  --rounds N           measured rounds per target, alternating order (default 5; smoke 1)
  --processes N        fresh processes per target the rounds are spread over (default 5, a round each;
                       smoke 1): one process's GC state lasts its life, so rounds from one process
                       measure its luck
  --parallel N         scenarios run at once (default 1; smoke 3). Only for a smoke run's kind of check:
                       scenarios at once share the machine, so their figures are not worth reading
  --duration S         seconds per load run (default 3)
  --websocket          also run the WebSocket scenario (messages per second, direct vs through switchyard)
                       the MCP scenario (tools/call via the gateway vs direct) runs in full runs, not in --smoke;
                       --scenario mcp runs it alone
  --connections N      autocannon connections (default 32)
  --rate N             offered req/s for the latency run of the chat scenario (default 2000)
  --warmup N           requests per target and variant before measuring (default 2000; smoke 20)
  --ttfb-count N       streams per TTFB run, one at a time (default 200; smoke 20)
  --streams N          slow streams held open in scenario 5 (default 5000; smoke 50)
  --hold-sec S         how long each slow stream lasts; must exceed the time to open them all (default 30; smoke 1)
  --chunk-ms MS        interval between slow-stream chunks (default 500)
  --soak               also run scenario 6, the soak
  --soak-requests N    soak length (default 1000000; smoke 2000), memory read at 10% and at the end
  --log-level LEVEL    switchyard's LOG_LEVEL (default warn)
  --pin, --no-pin      run the measured server alone on the last CPU, everything else on the others
                       (default on with 2 or more CPUs and taskset; falls back to unpinned with a note)`;

class UsageError extends Error {}

function readOptions() {
  const { values } = parseArgs({
    options: {
      smoke: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      list: { type: "boolean", default: false },
      scenario: { type: "string" },
      rounds: { type: "string" },
      processes: { type: "string" },
      parallel: { type: "string" },
      duration: { type: "string" },
      connections: { type: "string" },
      rate: { type: "string" },
      warmup: { type: "string" },
      "ttfb-count": { type: "string" },
      streams: { type: "string" },
      "hold-sec": { type: "string" },
      "chunk-ms": { type: "string" },
      soak: { type: "boolean", default: false },
      websocket: { type: "boolean", default: false },
      "soak-requests": { type: "string" },
      "log-level": { type: "string", default: "warn" },
      // node 20's parseArgs has no negated booleans: --no-pin is an option of its own.
      pin: { type: "boolean", default: false },
      "no-pin": { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  const smoke = values.smoke;
  if (values.pin && values["no-pin"]) throw new UsageError("--pin and --no-pin contradict each other: give one");
  const num = (name, full, smokeValue = full) => {
    const raw = values[name];
    if (raw === undefined) return smoke ? smokeValue : full;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
    return n;
  };
  return {
    smoke,
    json: values.json,
    list: values.list,
    scenario: values.scenario,
    soak: values.soak,
    websocket: values.websocket,
    rounds: num("rounds", 5, 1),
    processes: num("processes", 5, 1),
    parallel: num("parallel", 1, 3),
    duration: num("duration", 3),
    connections: num("connections", 32),
    rate: num("rate", 2000),
    warmup: num("warmup", 2000, 20),
    ttfbCount: num("ttfb-count", 200, 20),
    streams: num("streams", 5000, 50),
    holdSec: num("hold-sec", 30, 1),
    chunkMs: num("chunk-ms", 500),
    soakRequests: num("soak-requests", 1_000_000, 2000),
    smokeRequests: 100,
    logLevel: values["log-level"],
    pin: !values["no-pin"],
  };
}

function selectScenarios(all, opts) {
  if (!opts.scenario) return all.filter((s) => s.onlyWith !== "soak" || opts.soak);
  const wanted = opts.scenario.split(",").map((s) => s.trim()).filter(Boolean);
  const picked = [];
  for (const w of wanted) {
    const s = all.find((x) => x.id === w || String(x.n) === w);
    if (!s) throw new UsageError(`unknown scenario ${JSON.stringify(w)}; known: ${all.map((x) => `${x.n}/${x.id}`).join(", ")}`);
    picked.push(s);
  }
  return picked;
}

/** Every module's scenarios, numbered in list order; an id used twice is the second module's mistake. */
function allScenarios(opts) {
  const all = SCENARIO_MODULES.flatMap((m) => m.scenarios(opts)).map((s, i) => ({ ...s, n: i + 1 }));
  const seen = new Set();
  for (const s of all) {
    if (seen.has(s.id)) throw new Error(`two scenarios have the id ${JSON.stringify(s.id)}`);
    seen.add(s.id);
  }
  return all;
}

async function main() {
  const opts = readOptions();
  const log = (line) => process.stderr.write(line + "\n");
  const all = allScenarios(opts);
  if (opts.list) {
    for (const s of all) process.stdout.write(`${s.n} ${s.id}${s.onlyWith ? ` (only with --${s.onlyWith})` : ""}: ${s.title}\n    ${s.variants.map((v) => v.id).join(", ")}\n`);
    return 0;
  }
  // The MCP scenario (bench/mcp.mjs) drives sessions with the MCP SDK, not autocannon: run apart.
  const wanted = opts.scenario?.split(",").map((s) => s.trim()) ?? [];
  const mcp = opts.scenario ? wanted.includes("mcp") : !opts.smoke;
  const otherIds = wanted.filter((w) => w !== "mcp");
  const selected = opts.scenario && otherIds.length === 0 ? [] : selectScenarios(all, { ...opts, scenario: otherIds.join(",") || undefined });
  const pinning = setUpPinning(opts.pin);
  log(`note: ${pinning.note}`);
  const tmp = mkdtempSync(join(os.tmpdir(), "switchyard-bench-"));
  const switchyard = switchyardTarget({ rootDir, benchDir, recordsFile: join(tmp, "records.jsonl"), logLevel: opts.logLevel });
  const others = otherTargets({ rootDir });
  const targets = [floorTarget({ benchDir }), switchyard, withMetricsTarget(switchyard), ...others];
  if (switchyard.missing) log(`note: switchyard ${switchyard.missing}; its column is skipped, the floor still runs`);
  for (const o of others) log(`note: extra column for ${o.name}`);

  const report = {
    ok: true,
    mode: opts.smoke ? "smoke" : "full",
    startedAt: new Date().toISOString(),
    machine: { node: process.version, cpus: os.cpus().length, clockTicksPerSec: clockTicksPerSec(), loadavg: os.loadavg().map((n) => Math.round(n * 100) / 100) },
    options: { ...opts, json: undefined },
    switchyard: { available: !switchyard.missing, reason: switchyard.missing ?? undefined },
    others: others.map((o) => o.name),
    pinning: { enabled: pinning.enabled, serverCpus: pinning.server, otherCpus: pinning.others, note: pinning.note },
    scenarios: [],
  };

  const pin = { server: pinning.server, others: pinning.others, all: pinning.all };
  const upstream = await startServer({ name: "upstream", script: join(benchDir, "upstream.mjs"), cpus: pin.others });
  // A smoke run starts each server once and keeps it for every scenario (see sharedServers), and
  // its load clients too (keptClients).
  const servers = opts.smoke ? sharedServers() : null;
  const clients = opts.smoke ? keptClients() : null;
  try {
    const results = new Array(selected.length);
    let next = 0;
    // --parallel workers, each taking the next scenario; the report keeps the scenarios' order.
    const worker = async () => {
      while (next < selected.length) {
        const i = next++;
        const scenario = selected[i];
        log(`== ${scenario.n} ${scenario.id}: ${scenario.title}`);
        try {
          results[i] = await runScenario(scenario, { targets, upstream, opts, benchDir, log, pin, servers, clients });
        } catch (err) {
          log(`[${scenario.id}] harness error: ${err.stack ?? err}`);
          results[i] = { id: scenario.id, n: scenario.n, title: scenario.title, status: "failed", reason: String(err.message ?? err), rows: [] };
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(opts.parallel, selected.length) }, worker));
    } finally {
      await Promise.all([servers?.stopAll(), clients?.stopAll()]);
    }
    report.scenarios.push(...results);
    if (mcp && !switchyard.missing) report.scenarios.push(await runMcpScenario({ rootDir, benchDir, opts, log, pin }));
    if (opts.websocket) report.scenarios.push(await runWebSocketScenario({ rootDir, benchDir, recordsFile: join(tmp, "records.jsonl"), opts, log, pin }));
  } finally {
    await upstream.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  report.ok = report.scenarios.every((s) => s.status !== "failed");
  report.metricsOverhead = metricsOverhead(report);
  process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + "\n" : renderTable(report) + "\n");
  if (!opts.json && report.metricsOverhead) process.stdout.write(describeMetricsOverhead(report.metricsOverhead) + "\n");
  if (!report.ok) log("bench: some scenarios failed (see FAILED rows)");
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    // Bad flags get their message and the usage; anything else its stack.
    const usage = err?.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || err?.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" || err instanceof UsageError;
    process.stderr.write(usage ? `bench: ${err.message}\n\n${USAGE}\n` : `bench: ${err.stack ?? err}\n`);
    process.exit(2);
  },
);
