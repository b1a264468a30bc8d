// One autocannon run against one target, in a process of its own so the load generator's CPU
// and memory never count against the server measured. Prints one JSON line with the results.
//
// Usage: node bench/load.mjs '<spec json>'  (or node bench/load.mjs --url http://... [--duration 5 ...])
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

async function main() {
  const spec = readSpec(process.argv.slice(2));
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
  if (spec.amount) Object.assign(opts, { amount: spec.amount, connections: Math.min(opts.connections, spec.amount), bailout: spec.bailout ?? Math.max(10, opts.connections) });
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
  // autocannon notices a finished amount only on its 1 s sampling tick: time to the last response.
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
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stderr.write(`load: ${err?.stack ?? err}\n`);
  process.exit(1);
});
