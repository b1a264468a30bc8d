// What learning costs a request: the time of the plan phase with select-bandit against
// select-round-robin (which only counts), in one process, one run. Each request is planned,
// its attempt reported and settled as in the gateway; only the plan is timed, since that is the
// part a request waits for (learning happens at settle, off its path).
//
//   node bench/selector-latency.mjs [--requests N] [--redis URL] [--json]
//
// Needs `npm run build` (it loads dist/). With --redis, the bandit's statistics live in that
// Redis, as when several instances learn together: refreshMs 250 (the default) and 0 (a store
// round trip on every plan) are both measured.
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { requests: { type: "string", default: "20000" }, redis: { type: "string" }, json: { type: "boolean", default: false } } });
const requests = Number(values.requests);
const dist = new URL("../dist/", import.meta.url);
const load = (path) => import(new URL(path, dist).href);

const { createTestBackend, createTestExchange, createTestStep } = await load("testkit/index.js");
const { createMemoryStore } = await load("lib/state/memory.js");
const bandit = (await load("plugins/select-bandit/index.js")).default;
const roundRobin = (await load("plugins/select-round-robin/index.js")).default;

const BACKENDS = ["a", "b", "c"];
const SUCCESS = { a: 0.6, b: 0.95, c: 0.75 };

async function openRedisStore(url) {
  const { openStateStore } = await load("lib/state/open.js");
  const { silentLogger } = await load("lib/log.js");
  return openStateStore({ kind: "redis", url, keyPrefix: `bench-selector-${process.pid}-${Date.now()}:` }, silentLogger);
}

/** Plans `requests` requests through `plugin`, reporting outcomes as the gateway would; returns plan times in µs. */
async function planTimes(plugin, config, store) {
  const backends = new Map(BACKENDS.map((id) => [id, createTestBackend(id)]));
  const attempts = BACKENDS.map((id) => ({ backend: backends.get(id), model: "m" }));
  const { hooks, instance } = await createTestStep(plugin, config, { backends, store });
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const times = new Float64Array(requests);
  for (let i = 0; i < requests; i++) {
    const x = createTestExchange({ model: "m", tenant: i % 2 ? "acme" : "globex" });
    const started = performance.now();
    const planned = await hooks.plan.promise([...attempts], x);
    times[i] = (performance.now() - started) * 1000;
    const first = planned[0];
    const ok = random() < SUCCESS[first.backend.id];
    hooks.attemptStarted.call(x, first);
    hooks.attemptFinished.call(x, ok ? { backend: first.backend.id, model: "m", status: 200, ttfbMs: 100, latencyMs: 150 } : { backend: first.backend.id, model: "m", status: 503, failure: "status", latencyMs: 80 });
    if (ok) x.backend = first.backend.id;
    await hooks.settle.promise(x);
  }
  await instance.close?.();
  return times.sort();
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const runs = [
  { name: "select-round-robin (memory)", plugin: roundRobin, config: {}, store: () => createMemoryStore() },
  { name: "select-bandit thompson (memory)", plugin: bandit, config: { seed: 1 }, store: () => createMemoryStore() },
  { name: "select-bandit ucb1 (memory)", plugin: bandit, config: { seed: 1, strategy: "ucb1" }, store: () => createMemoryStore() },
  { name: "select-bandit thompson, contextBy tenant (memory)", plugin: bandit, config: { seed: 1, contextBy: ["tenant"] }, store: () => createMemoryStore() },
];
if (values.redis) {
  runs.push(
    { name: "select-bandit thompson (redis, refreshMs 250)", plugin: bandit, config: { seed: 1 }, store: () => openRedisStore(values.redis) },
    { name: "select-bandit thompson (redis, refreshMs 0)", plugin: bandit, config: { seed: 1, refreshMs: 0 }, store: () => openRedisStore(values.redis) },
  );
}

const rows = [];
for (const run of runs) {
  const store = await run.store();
  const times = await planTimes(run.plugin, run.config, store);
  await store.close();
  rows.push({ selector: run.name, requests, p50Us: quantile(times, 0.5), p99Us: quantile(times, 0.99), maxUs: times[times.length - 1] });
}

if (values.json) console.log(JSON.stringify(rows, null, 2));
else {
  console.log(`plan phase per request, ${requests} requests each (µs)`);
  console.log("| selector | p50 | p99 | max |\n|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.selector} | ${r.p50Us.toFixed(1)} | ${r.p99Us.toFixed(1)} | ${r.maxUs.toFixed(0)} |`);
}
