// One autocannon run against one target, in a process of its own so the load generator's CPU
// and memory never count against the server measured. Prints one JSON line with the results.
//
// Usage: node bench/load.mjs '<spec json>'  (or node bench/load.mjs --url http://... [--duration 5 ...]);
// node bench/load.mjs --serve takes specs over IPC instead (see serve() below).
// spec: { url, method, headers, body, connections, duration (s) | amount, rate (req/s overall, optional) }
//
// Latency percentiles come from every 2xx response time recorded at full (sub-millisecond)
// precision, because autocannon's own histogram has a 1 ms floor and the bar is about 1 ms.
import autocannon from "autocannon";

function readSpec(argv) {
  if (argv[0]?.startsWith("{")) return JSON.parse(argv[0]);
  const spec = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, "");
    const value = argv[i + 1];
    if (!key || value === undefined) throw new Error(`expected --name value pairs, got ${argv.join(" ")}`);
    spec[key] = /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return spec;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (n) => (n === null ? null : Math.round(n * 1000) / 1000);

/** One autocannon run: resolves with the results printed as the JSON line. */
async function runLoad(spec) {
  if (!spec.url) throw new Error("spec.url is required");
  let times = new Float64Array(spec.amount ? Math.min(spec.amount, 2_000_000) : 65536);
  let n = 0;
  let responses = 0;

  const opts = {
    url: spec.url,
    method: spec.method ?? "GET",
    headers: spec.headers ?? {},
    body: spec.body === undefined ? undefined : typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body),
    connections: spec.connections ?? 32,
    pipelining: 1,
    timeout: spec.timeout ?? 30,
  };
  // A fixed amount against a target that times out on every request would take amount/connections
  // timeouts in a row: stop after one connection-load of errors instead.
  // autocannon refuses more connections than requests (a short warmup of a many-connection variant).
  // autocannon notices that a fixed amount is done only on its sampling tick (every second by
  // default): a short tick ends the run right after its last response instead of up to a second
  // later (a smoke run or a warmup of a few hundred requests is over well inside a second).
  // Nothing read here comes from the per-tick samples.
  if (spec.amount) Object.assign(opts, { amount: spec.amount, connections: Math.min(opts.connections, spec.amount), bailout: spec.bailout ?? Math.max(10, opts.connections), sampleInt: 50 });
  else opts.duration = spec.duration ?? 5;
  if (spec.rate) opts.overallRate = spec.rate;

  const started = process.hrtime.bigint();
  const instance = autocannon(opts);
  let lastResponse = started;
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    responses++;
    lastResponse = process.hrtime.bigint();
    if (statusCode < 200 || statusCode >= 300) return;
    if (n === times.length) {
      if (n >= 2_000_000) return; // enough samples for any percentile we print
      const grown = new Float64Array(n * 2);
      grown.set(times);
      times = grown;
    }
    times[n++] = responseTime;
  });
  const result = await instance;
  // Even with a short tick, the time to the last response is the run's duration.
  const elapsedSec = Number((spec.amount ? lastResponse : process.hrtime.bigint()) - started) / 1e9;
  const sorted = times.subarray(0, n).sort();
  const ok = result["2xx"];
  const out = {
    url: spec.url,
    connections: opts.connections,
    rateOffered: spec.rate ?? null,
    amount: spec.amount ?? null,
    durationSec: round(elapsedSec),
    requests: responses,
    ok,
    rps: round(ok / elapsedSec),
    latencyMs: { p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted[n - 1] ?? null) },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    statusCodes: result.statusCodeStats,
  };
  return out;
}

/**
 * `--serve` (keptClients in processes.mjs, for smoke runs): stay up and run each spec sent over
 * IPC ({ type: "run", id, spec }), answering { type: "result", id, result } or { id, error };
 * runs may overlap. Exits when the parent disconnects.
 */
function serve() {
  process.on("message", (msg) => {
    if (msg?.type !== "run") return;
    runLoad(msg.spec).then(
      (result) => process.send({ type: "result", id: msg.id, result }),
      (err) => process.send({ type: "result", id: msg.id, error: String(err?.stack ?? err) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
}

if (process.argv[2] === "--serve") serve();
else {
  runLoad(readSpec(process.argv.slice(2))).then(
    (out) => process.stdout.write(JSON.stringify(out) + "\n"),
    (err) => {
      process.stderr.write(`load: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
