// Instructions per request, for floor and switchyard: a figure that moves much less than
// wall-clock or CPU time with whatever else the machine runs, so a change to the gateway can be
// judged on a busy machine. Not immune: work that follows the clock (timers, GC and compiler
// threads, requests timing out under valgrind's slowness) is counted too, so run one at a time
// (bench/README.md says more). Each server runs under valgrind's callgrind with
// instrumentation off until it is warm; then the counters are zeroed, N requests of one scenario
// variant are sent, and the counters are dumped: guest instructions (Ir) of every thread of the
// server, over the requests that completed.
//
// Usage: node bench/instructions.mjs [--scenario chat] [--variant max] [--requests 2000]
//          [--warmup 2000] [--concurrency 8] [--targets floor,switchyard] [--repeat 1] [--root DIR]
// --root: measure the build in DIR/dist (default: this checkout's), e.g. a copy of dist/ made
// before a change, placed inside the checkout so it finds node_modules.
// prints one JSON line: instructions per request for each target (the median over --repeat
// rounds, after one unmeasured round with instrumentation on) and floor / switchyard.
// Needs valgrind (callgrind_control comes with it) and a build (npm run build). Instruction
// counts are not time: a syscall costs one instruction here, and cache misses nothing, so read
// the ratio beside the CPU-time ratio of `npm run bench`, not instead of it. Slow: valgrind runs
// node some 50 times slower, so a few thousand requests take a minute or two per target.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { startServer } from "./processes.mjs";
import { scenarios } from "./scenarios.mjs";
import { floorTarget, switchyardTarget } from "./targets.mjs";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const rootDir = join(benchDir, "..");

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "chat" },
    variant: { type: "string" },
    requests: { type: "string", default: "2000" },
    warmup: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "8" },
    targets: { type: "string", default: "floor,switchyard" },
    repeat: { type: "string", default: "1" },
    // A copy of a build to measure (DIR/dist/cli/main.js), so two builds can be compared side by side.
    root: { type: "string", default: rootDir },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").filter((l) => l.startsWith("//")).map((l) => l.slice(3)).join("\n") + "\n");
  process.exit(0);
}
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const concurrency = Number(values.concurrency);
const repeat = Number(values.repeat);

const opts = { holdSec: 30, chunkMs: 500, streams: 5000, rate: 2000, soakRequests: 1 };
const scenario = scenarios(opts).find((s) => s.id === values.scenario);
if (!scenario) throw new Error(`unknown scenario ${values.scenario}; known: ${scenarios(opts).map((s) => s.id).join(", ")}`);
const variant = values.variant ? scenario.variants.find((v) => v.id === values.variant) : scenario.variants.find((v) => v.kind === "load" || v.kind === "ttfb");
if (!variant) throw new Error(`unknown variant ${values.variant} of ${scenario.id}; known: ${scenario.variants.map((v) => v.id).join(", ")}`);
const req = variant.request;
const body = req.body === undefined ? undefined : JSON.stringify(req.body);

/** Sends `count` requests, `concurrency` at a time; resolves with how many came back 200 with a whole body (and the marker, for streams). */
async function send(baseUrl, count) {
  const pool = new Pool(baseUrl, { connections: concurrency, pipelining: 1 });
  let next = 0;
  let ok = 0;
  let problem = null;
  const worker = async () => {
    while (next < count) {
      next++;
      const res = await pool.request({ method: req.method, path: req.path, headers: req.headers, body });
      const text = await res.body.text();
      if (res.statusCode === 200 && (!req.marker || text.includes(req.marker))) ok++;
      else problem ??= `status ${res.statusCode}: ${text.slice(0, 200)}`;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await pool.close();
  if (problem) process.stderr.write(`  some requests failed: ${problem}\n`);
  return ok;
}

function callgrindControl(pid, flag) {
  execFileSync("callgrind_control", [flag, String(pid)], { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
}

/** The Ir total of the newest callgrind dump in `dir`. */
function lastDumpIr(dir) {
  // cg.<pid> is written at exit; each --dump writes cg.<pid>.<n>.
  const dumps = readdirSync(dir).filter((f) => /^cg\.\d+\.\d+$/.test(f));
  if (dumps.length === 0) throw new Error(`no callgrind dump in ${dir}`);
  const newest = join(dir, dumps.sort((a, b) => Number(a.split(".").pop()) - Number(b.split(".").pop())).pop());
  const m = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(newest, "utf8"));
  if (!m) throw new Error(`no Ir total in ${newest}`);
  return Number(m[1]);
}

async function measure(target, upstream, tmp) {
  const dir = mkdtempSync(join(tmp, `${target.name}-`));
  const server = await target.start({
    upstream,
    scenario,
    cpus: null,
    launch: {
      wrap: ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${dir}/cg.%p`, "--dump-instr=no", "--quiet"],
      timeoutMs: 600_000,
    },
  });
  try {
    const t0 = Date.now();
    const elapsed = () => `${Math.round((Date.now() - t0) / 1000)} s`;
    const warmed = await send(server.url, warmup);
    process.stderr.write(`  warm after ${elapsed()}\n`);
    if (warmed < warmup) throw new Error(`${target.name}: only ${warmed} of ${warmup} warmup requests succeeded`);
    callgrindControl(server.pid, "--instr=on");
    // The first requests after instrumentation starts count far more (code re-entered, V8 settling
    // again): one round is run and thrown away before the measured ones.
    await send(server.url, requests);
    const results = [];
    for (let r = 0; r < repeat; r++) {
      callgrindControl(server.pid, "--zero");
      const done = await send(server.url, requests);
      callgrindControl(server.pid, "--dump");
      results.push(lastDumpIr(dir) / done);
      process.stderr.write(`  measured ${done} after ${elapsed()}\n`);
    }
    return results;
  } finally {
    await server.stop();
  }
}

const tmp = mkdtempSync(join(os.tmpdir(), "switchyard-instructions-"));
const upstream = await startServer({ name: "upstream", script: join(benchDir, "upstream.mjs"), probe: false });
try {
  const all = { floor: floorTarget({ benchDir }), switchyard: switchyardTarget({ rootDir: values.root, benchDir, recordsFile: join(tmp, "records.jsonl"), logLevel: "warn" }) };
  const figures = {};
  for (const name of values.targets.split(",")) {
    const target = all[name];
    if (!target) throw new Error(`unknown target ${name}: floor or switchyard`);
    process.stderr.write(`${scenario.id}/${variant.id} ${name}: ${warmup} warmup, then ${repeat} x ${requests} requests under callgrind...\n`);
    figures[name] = await measure(target, upstream, tmp);
    process.stderr.write(`  ${figures[name].map((n) => Math.round(n).toLocaleString("en")).join(", ")} instructions per request\n`);
  }
  const med = (list) => [...list].sort((a, b) => a - b)[list.length >> 1];
  const line = { scenario: scenario.id, variant: variant.id, requests, concurrency };
  for (const [name, list] of Object.entries(figures)) line[`${name}IrPerReq`] = Math.round(med(list));
  if (figures.floor && figures.switchyard) line.ratio = Math.round((med(figures.floor) / med(figures.switchyard)) * 1000) / 1000;
  process.stdout.write(JSON.stringify(line) + "\n");
} finally {
  await upstream.stop();
  rmSync(tmp, { recursive: true, force: true });
}
