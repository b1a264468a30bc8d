// Runs one scenario against every target: start fresh, check one reply is right, warm up, then
// the measured rounds (targets alternate order each round so drift on a shared machine falls on
// both), and turn the results into rows of figures relative to the floor.
import { join } from "node:path";
import { request } from "undici";
import { clockTicksPerSec, cpuStealTicks, runClient } from "./processes.mjs";
import { Skip } from "./targets.mjs";

const median = (values) => {
  const v = values.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const round2 = (n) => (n === null || n === undefined ? null : Math.round(n * 100) / 100);

/**
 * `pin`: { server, others } taskset CPU lists (null = unpinned): each target runs alone on
 * `server`; the load and stream clients run on `others`, beside the upstream and the harness.
 * `servers` (a smoke run's sharedServers()): targets come from it and outlive the scenario;
 * without it each target starts fresh and stops at the scenario's end. `clients` (a smoke run's
 * keptClients()): load runs go to its kept processes rather than a new process each.
 */
export async function runScenario(scenario, { targets, upstream, opts, benchDir, log, pin: pinned = { server: null, others: null, all: null }, servers = null, clients = null }) {
  // An unpinned scenario lets the scheduler place every process on every CPU the bench may use.
  const pin = scenario.unpinned && pinned.all ? { server: pinned.all, others: pinned.all } : pinned;
  const loadScript = join(benchDir, "load.mjs");
  const streamsScript = join(benchDir, "streams.mjs");
  const client = (script, spec, extra = {}) => (clients && script === loadScript ? clients.run(script, spec, { cpus: pin.others }) : runClient(script, spec, { ...extra, cpus: pin.others }));
  const rows = [];
  // One entry per target that started, kept across its processes: what it measured, which variants failed.
  const active = [];
  // Rounds are spread over fresh processes: a Node process keeps the GC state it falls into for its
  // whole life (the floor's CPU per 20 KB reply differed by 1.7x between processes in session 12,
  // far less within one), so rounds from one process measure its luck, not the target.
  const timed = scenario.variants.some((v) => v.kind === "load" || v.kind === "ttfb");
  const processes = servers || !timed ? 1 : Math.min(opts.processes ?? 1, opts.rounds);

  for (let g = 0; g < processes; g++) {
    const running = [];
    for (const target of targets) {
      if (!target.supports(scenario)) continue;
      if (scenario.floorless && target.name === "floor") continue;
      const kept = active.find((e) => e.target === target);
      if (g > 0 && !kept) continue; // it failed to start the first time: its rows say so
      try {
        const context = { upstream, scenario, cpus: pin.server };
        const server = await (servers ? servers.start(target, context) : target.start(context));
        if (kept) kept.server = server;
        else active.push({ target, server, results: new Map(), failed: new Map() });
        running.push(kept ?? active.at(-1));
      } catch (err) {
        const status = err instanceof Skip ? "skipped" : "failed";
        log(`[${scenario.id}] ${target.name} ${status}${g > 0 ? ` (process ${g + 1})` : ""}: ${err.message}`);
        if (kept) for (const v of scenario.variants) kept.failed.set(v.id, `process ${g + 1} did not start: ${err.message}`);
        else for (const v of scenario.variants) rows.push({ scenario: scenario.id, variant: v.id, target: target.name, status, reason: err.message });
      }
    }
    try {
      await measureInProcess(running, g, processes);
    } finally {
      if (!servers) await Promise.all(running.map((e) => e.server.stop()));
    }
  }

  /** One process (the `g`th of `count`) of every running target: check, warm up, its share of the rounds; memory and crashes at the end. */
  async function measureInProcess(running, g, count) {
    // A reply that is fast but wrong must not count: check one of each before any load. A variant
    // that fails its check or its warmup is a failed row; the target's other variants still run.
    for (const entry of running) {
      // A request the target was already checked and warmed with (the same load at another rate) is not done twice.
      const warmed = new Map();
      for (const v of scenario.variants) {
        if (entry.failed.has(v.id)) continue;
        const key = JSON.stringify([v.kind, v.request, v.warmupRequest, v.connections]);
        if (warmed.has(key)) {
          const earlier = warmed.get(key);
          if (entry.failed.has(earlier)) entry.failed.set(v.id, entry.failed.get(earlier));
          continue;
        }
        warmed.set(key, v.id);
        // A slow stream (scenario 5) lasts holdSec by design: its check waits that long and more.
        const checkMs = 30_000 + (scenario.id === "hold" ? opts.holdSec * 1000 : 0);
        const problem = await checkReply(entry.server.url, entry.target.adapt(v.request), checkMs);
        if (problem) {
          entry.failed.set(v.id, `reply check failed: ${problem}`);
          log(`[${scenario.id}] ${v.id} ${entry.target.name} failed the reply check: ${problem}`);
          continue;
        }
        if (opts.warmup <= 0) continue;
        const failedCount = await warmUp(entry, v, { client, loadScript, streamsScript, opts });
        if (failedCount > 0) {
          entry.failed.set(v.id, `warmup: ${failedCount} requests failed`);
          log(`[${scenario.id}] ${v.id} ${entry.target.name} failed the warmup: ${failedCount} requests failed`);
        }
      }
    }

    // This process's rounds: 5 over 3 processes are 2, 1, 2.
    const [fromRound, toRound] = [Math.round((g * opts.rounds) / count), Math.round(((g + 1) * opts.rounds) / count)];
    for (const v of scenario.variants) {
      if (v.rateOf) {
        // A share of the floor's own maximum, measured in this run (its rounds so far): the same offered rate for every target.
        const floor = active.find((e) => e.target.name === "floor");
        const floorMax = floor ? median((floor.results.get(v.rateOf.variant) ?? []).map((r) => r.rps)) : null;
        if (!floorMax) {
          for (const e of running) if (!e.failed.has(v.id)) e.failed.set(v.id, `no floor req/s from variant ${v.rateOf.variant} to take ${v.rateOf.share * 100}% of`);
        } else v.rate = Math.max(1, Math.round(floorMax * v.rateOf.share));
      }
      const measured = running.filter((e) => !e.failed.has(v.id));
      if (v.kind === "load" || v.kind === "ttfb") {
        for (let r = fromRound; r < toRound; r++) {
          const order = r % 2 === 0 ? measured : [...measured].reverse();
          for (const entry of order) {
            const result = await withCpu(entry.server, () =>
              v.kind === "load"
                ? client(loadScript, loadSpec(entry, v, { connections: v.connections ?? opts.connections, ...(opts.smoke ? { amount: smokeAmount(v, opts) } : { duration: opts.duration }) }))
                : client(streamsScript, streamSpec(entry, v, { mode: "ttfb", count: opts.ttfbCount, concurrency: 1 })),
            );
            log(`[${scenario.id}] ${v.id} ${entry.target.name} round ${r + 1}/${opts.rounds}${count > 1 ? ` (process ${g + 1}/${count})` : ""}: ${describe(result)}`);
            push(entry, v, { ...result, round: r });
          }
        }
      } else if (v.kind === "hold") {
        for (const entry of measured) push(entry, v, await holdStreams(entry, v, { client, streamsScript }, opts, log, scenario));
      } else if (v.kind === "soak") {
        for (const entry of measured) push(entry, v, await soak(entry, v, { client, loadScript }, opts, log, scenario));
      }
    }
    for (const entry of running) {
      const exited = entry.server.exited();
      if (!exited) {
        entry.memory = await entry.server.memory(); // the last process's, at its end
        continue;
      }
      // The floor and switchyard exit 0 only when told to stop: mid-scenario, that is a signal
      // from outside the bench (another user's pkill by name, say), not a crash.
      const how = exited.code === 0 ? "0: stopped from outside the bench, a SIGTERM?" : exited.code ?? exited.signal;
      entry.crashed ??= `${entry.target.name} exited (${how}) during the scenario: ${entry.server.output().trim().split("\n").slice(-5).join(" | ")}`;
    }
  }

  for (const v of scenario.variants) {
    const floor = active.find((e) => e.target.name === "floor" && !e.failed.has(v.id));
    const floorRow = floor ? summarize(v, floor) : null;
    for (const entry of active) {
      if (entry.failed.has(v.id)) {
        rows.push({ scenario: scenario.id, variant: v.id, kind: v.kind, target: entry.target.name, status: "failed", reason: entry.failed.get(v.id) });
        continue;
      }
      const row = entry === floor ? floorRow : summarize(v, entry);
      relate(row, floorRow, v, opts);
      if (entry.crashed) Object.assign(row, { status: "failed", reason: row.reason ? `${row.reason}; ${entry.crashed}` : entry.crashed });
      rows.push({ scenario: scenario.id, ...row });
    }
  }
  const variantIndex = (row) => scenario.variants.findIndex((v) => v.id === row.variant);
  const targetIndex = (row) => targets.findIndex((t) => t.name === row.target);
  rows.sort((a, b) => variantIndex(a) - variantIndex(b) || targetIndex(a) - targetIndex(b));
  const ran = rows.filter((r) => r.status !== "skipped");
  const status = rows.some((r) => r.status === "failed") ? "failed" : ran.length === 0 ? "skipped" : "ok";
  return { id: scenario.id, n: scenario.n, title: scenario.title, status, rows };
}

/** A smoke run's requests for a variant: a third at a fixed rate, which a loaded machine may make slow. */
const smokeAmount = (v, opts) => (v.rate || v.rateOf ? Math.ceil(opts.smokeRequests / 3) : opts.smokeRequests);

/** Warms one target up for one variant; resolves with how many warmup requests failed. */
async function warmUp(entry, v, { client, loadScript, streamsScript, opts }) {
  if (v.kind === "load" || v.kind === "soak") {
    // Paced streams spend their time waiting on the upstream: they warm up as many at once as they are measured.
    const r = await client(loadScript, loadSpec(entry, v, { amount: opts.warmup, connections: v.connections ?? Math.min(8, opts.connections), rate: undefined }));
    return r.errors + r.timeouts + r.non2xx + r.mismatches + Math.max(0, opts.warmup - r.requests);
  }
  // Streams warm up on a fast stream of the same route, so memory measured later is the streams' own.
  const warm = v.warmupRequest ?? v.request;
  const r = await client(streamsScript, streamSpec(entry, { request: warm }, { mode: "ttfb", count: Math.min(opts.warmup, 500), concurrency: 16, timeoutMs: 15_000 }));
  return r.streams - r.completed;
}

/**
 * Runs one measured client and adds the server's CPU time over it: `cpuTicks` (utime + stime from
 * /proc, in clock ticks), `cpuUsPerReq` per completed (2xx) request or stream, and `cpuBusyPct`
 * (CPU seconds over the load's own duration, when it has one; 100 = one core's worth), and
 * `stealPct`: the share of the server's CPU (of the machine, unpinned) the hypervisor gave to
 * other guests meanwhile, which says how much to trust the run's req/s.
 */
async function withCpu(server, run) {
  const stealBefore = cpuStealTicks(server.cpus);
  const before = server.cpuTicks();
  const result = await run();
  const after = server.cpuTicks();
  const stealAfter = cpuStealTicks(server.cpus);
  const stealPct = stealBefore && stealAfter && stealAfter.total > stealBefore.total ? Math.round(((stealAfter.steal - stealBefore.steal) / (stealAfter.total - stealBefore.total)) * 100) : null;
  return { ...result, ...cpuFigures(before === null || after === null ? null : after - before, completedOf(result), result.durationSec), stealPct };
}

const completedOf = (result) => result.ok ?? result.completed ?? 0;

function cpuFigures(ticks, completed, durationSec) {
  if (ticks === null) return { cpuTicks: null, cpuUsPerReq: null, cpuBusyPct: null };
  const sec = ticks / clockTicksPerSec();
  return {
    cpuTicks: ticks,
    cpuUsPerReq: completed > 0 ? round2((sec * 1e6) / completed) : null,
    cpuBusyPct: durationSec > 0 ? Math.round((sec / durationSec) * 100) : null,
  };
}

function push(entry, variant, result) {
  const list = entry.results.get(variant.id) ?? [];
  list.push(result);
  entry.results.set(variant.id, list);
}

function loadSpec(entry, variant, extra) {
  const req = entry.target.adapt(variant.request);
  return { url: entry.server.url + req.path, method: req.method, headers: req.headers, body: req.body, rate: variant.rate, ...extra };
}

function streamSpec(entry, variant, extra) {
  const req = entry.target.adapt(variant.request);
  return { url: entry.server.url + req.path, method: req.method, headers: req.headers, body: req.body, marker: req.marker, ...extra };
}

async function checkReply(baseUrl, req, timeoutMs) {
  try {
    const res = await request(baseUrl + req.path, {
      method: req.method,
      headers: req.headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
      // A reply that trickles forever (keep-alive comments, no end) must fail the check, not hang it.
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) return `status ${res.statusCode}: ${text.slice(0, 300)}`;
    return req.check ? req.check(text) : null;
  } catch (err) {
    if (err?.name === "TimeoutError") return `no complete reply within ${timeoutMs / 1000} s (the body never ended)`;
    return String(err?.code ?? err?.message ?? err);
  }
}

/**
 * N slow streams at once; memory measured before (after a GC) and while all are open. Its CPU per
 * stream includes the one full GC forced for the measurement while they are open.
 */
async function holdStreams(entry, variant, { client, streamsScript }, opts, log, scenario) {
  const before = await entry.server.memory({ gc: true });
  let during = null;
  let openStreams = null;
  const spec = streamSpec(entry, variant, { mode: "hold", streams: opts.streams, timeoutMs: opts.holdSec * 1000 + 120_000 });
  const result = await withCpu(entry.server, () =>
    client(streamsScript, spec, {
      onMessage: async (msg, reply) => {
        if (msg?.type !== "open") return;
        openStreams = msg.open;
        during = await entry.server.memory({ gc: true });
        reply({ type: "measured" });
      },
    }),
  );
  const extra = { openMs: result.openMs, openAtMeasure: openStreams, rssBeforeKB: before.rssKB, rssOpenKB: during?.rssKB ?? null };
  if (during && openStreams) {
    extra.perStreamKB = round2((during.rssKB - before.rssKB) / openStreams);
    if (during.heapUsed !== null && before.heapUsed !== null) extra.perStreamHeapKB = round2((during.heapUsed - before.heapUsed) / 1024 / openStreams);
    if (during.heapTotal !== null && before.heapTotal !== null) extra.perStreamHeapTotalKB = round2((during.heapTotal - before.heapTotal) / 1024 / openStreams);
    if (during.external !== null && before.external !== null) extra.perStreamExternalKB = round2((during.external - before.external) / 1024 / openStreams);
  }
  log(`[${scenario.id}] ${entry.target.name}: ${result.completed}/${result.streams} completed, open after ${result.openMs} ms, ${extra.perStreamKB ?? "?"} KB RSS and ${extra.perStreamHeapKB ?? "?"} KB heap (${extra.perStreamHeapTotalKB ?? "?"} KB committed, ${extra.perStreamExternalKB ?? "?"} KB external) per open stream, ${cpuText(result)}`);
  return { ...result, extra };
}

/**
 * One long run with memory (after a GC) at a checkpoint and at the end. CPU is read around each
 * part, so the GC forced at the checkpoint is not counted.
 */
async function soak(entry, variant, { client, loadScript }, opts, log, scenario) {
  const checkpoint = Math.max(1, Math.round(opts.soakRequests / 10));
  const first = await withCpu(entry.server, () => client(loadScript, loadSpec(entry, variant, { amount: checkpoint, connections: opts.connections, rate: undefined })));
  const atCheckpoint = await entry.server.memory({ gc: true });
  log(`[${scenario.id}] ${entry.target.name} at ${checkpoint}: ${describe(first)}, RSS ${atCheckpoint.rssKB} KB`);
  const rest = await withCpu(entry.server, () => client(loadScript, loadSpec(entry, variant, { amount: opts.soakRequests - checkpoint, connections: opts.connections, rate: undefined })));
  const atEnd = await entry.server.memory({ gc: true });
  log(`[${scenario.id}] ${entry.target.name} at ${opts.soakRequests}: ${describe(rest)}, RSS ${atEnd.rssKB} KB`);
  const sum = (k) => first[k] + rest[k];
  const ticks = first.cpuTicks === null || rest.cpuTicks === null ? null : first.cpuTicks + rest.cpuTicks;
  return {
    ...cpuFigures(ticks, first.ok + rest.ok, first.durationSec + rest.durationSec),
    stealPct: first.stealPct === null || rest.stealPct === null ? null : Math.round((first.stealPct * first.durationSec + rest.stealPct * rest.durationSec) / (first.durationSec + rest.durationSec)),
    rps: (first.ok + rest.ok) / (first.durationSec + rest.durationSec),
    latencyMs: rest.latencyMs,
    requests: sum("requests"),
    ok: sum("ok"),
    errors: sum("errors"),
    timeouts: sum("timeouts"),
    non2xx: sum("non2xx"),
    mismatches: sum("mismatches"),
    expected: opts.soakRequests,
    extra: {
      checkpoint,
      rssCheckpointKB: atCheckpoint.rssKB,
      rssEndKB: atEnd.rssKB,
      heapCheckpointMB: atCheckpoint.heapUsed === null ? null : round2(atCheckpoint.heapUsed / 2 ** 20),
      heapEndMB: atEnd.heapUsed === null ? null : round2(atEnd.heapUsed / 2 ** 20),
      growthPct: round2(((atEnd.rssKB - atCheckpoint.rssKB) / atCheckpoint.rssKB) * 100),
    },
  };
}

function describe(r) {
  if (r.mode) return `${r.completed}/${r.streams} ok, ttfb p50 ${r.ttfbMs?.p50} ms p99 ${r.ttfbMs?.p99} ms, ${cpuText(r)}`;
  const bad = r.errors + r.timeouts + r.non2xx + r.mismatches;
  return `${Math.round(r.rps)} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ${cpuText(r)}${bad ? `, ${bad} failed` : ""}`;
}

const cpuText = (r) =>
  r.cpuTicks === null || r.cpuTicks === undefined
    ? "cpu ?"
    : `cpu ${r.cpuUsPerReq ?? "?"} µs/req (${r.cpuTicks} ticks${r.cpuBusyPct === null ? "" : `, server ${r.cpuBusyPct}% busy`}${r.stealPct === null || r.stealPct === undefined ? "" : `, ${r.stealPct}% steal`})`;

/** Medians over rounds for one target and variant; failures summed. */
export function summarize(variant, entry) {
  const results = entry.results.get(variant.id) ?? [];
  const row = { variant: variant.id, kind: variant.kind, target: entry.target.name, status: "ok", rssKB: entry.memory?.rssKB ?? null, peakRssKB: entry.memory?.hwmKB ?? null };
  if (variant.kind === "load" || variant.kind === "soak") {
    row.rps = round2(median(results.map((r) => r.rps)));
    row.p50Ms = round2(median(results.map((r) => r.latencyMs.p50)));
    row.p99Ms = round2(median(results.map((r) => r.latencyMs.p99)));
    row.completed = results.reduce((a, r) => a + r.ok, 0);
    row.errors = results.reduce((a, r) => a + r.errors + r.timeouts + r.non2xx + r.mismatches, 0);
    row.non2xx = results.reduce((a, r) => a + r.non2xx, 0);
    // Only runs of a fixed amount (smoke, soak) know how many should have completed.
    const amounts = results.map((r) => r.expected ?? r.amount ?? null);
    row.expected = amounts.length > 0 && amounts.every((a) => a !== null) ? amounts.reduce((a, b) => a + b, 0) : null;
  } else {
    row.rps = null;
    row.p50Ms = round2(median(results.map((r) => r.ttfbMs?.p50)));
    row.p99Ms = round2(median(results.map((r) => r.ttfbMs?.p99)));
    row.completed = results.reduce((a, r) => a + r.completed, 0);
    row.errors = results.reduce((a, r) => a + r.failed, 0);
    row.expected = results.reduce((a, r) => a + r.streams, 0);
    if (variant.kind === "ttfb") row.extra = { headersP50Ms: round2(median(results.map((r) => r.headersMs?.p50))) };
  }
  row.cpuUsPerReq = round2(median(results.map((r) => r.cpuUsPerReq)));
  // Each round's figure by round number, for the ratio taken round by round (relate()).
  if (results.every((r) => r.round !== undefined)) row.cpuRounds = Object.fromEntries(results.map((r) => [r.round, r.cpuUsPerReq]));
  row.cpuBusyPct = median(results.map((r) => r.cpuBusyPct));
  row.stealPct = median(results.map((r) => r.stealPct));
  // Per run, since each run's figure is only as fine as its own tick count.
  row.cpuTicks = median(results.map((r) => r.cpuTicks));
  if (results[0]?.extra) row.extra = results[0].extra;
  if (variant.rate) {
    // Each round against the rate it was offered: with rounds over several processes, a rateOf
    // variant's rate is taken afresh in each (see measureInProcess), so one rate for all would misjudge.
    const offered = results.map((r) => r.rateOffered).filter((rate) => rate > 0);
    row.keptUp = offered.length === results.length ? round2(median(results.map((r) => r.rps / r.rateOffered))) : null;
    if (variant.rateOf) row.extra = { ...row.extra, offeredRps: round2(median(offered)) };
  }
  if (row.errors > 0 || (row.expected !== null && row.completed < row.expected)) {
    row.status = "failed";
    const detail = results
      .map((r) => (typeof r.errors === "object" && Object.keys(r.errors).length > 0 ? JSON.stringify(r.errors) : r.statusCodes ? `statuses ${JSON.stringify(r.statusCodes)}` : ""))
      .find(Boolean);
    row.reason = `${row.errors} failed, ${row.completed} of ${row.expected ?? "?"} completed${detail ? ` (${detail})` : ""}`;
  }
  return row;
}

/** Ratio and added latency against the floor, and the bar's verdict for non-floor rows. */
export function relate(row, floorRow, variant, opts) {
  const bar = variant.bar ?? {};
  if (floorRow && row !== floorRow) {
    if (row.rps !== null && floorRow.rps && !variant.rate) row.ratio = round2(row.rps / floorRow.rps);
    // The floor's CPU per request over the target's: the same direction as the req/s ratio. Taken
    // round by round (the two ran back to back, so a slow phase of the machine falls on both),
    // then the median; the ratio of the two medians is kept beside it (see the README).
    if (row.cpuUsPerReq && floorRow.cpuUsPerReq) {
      row.cpuRatioOfMedians = round2(floorRow.cpuUsPerReq / row.cpuUsPerReq);
      // A round without a CPU figure on either side (ticks unreadable) pairs with nothing: a null would read as 0.
      const floorUs = (round) => floorRow.cpuRounds?.[round];
      const paired = Object.entries(row.cpuRounds ?? {}).map(([round, us]) => (typeof us === "number" && typeof floorUs(round) === "number" ? floorUs(round) / us : NaN));
      const sameRounds = paired.length > 0 && paired.length === Object.keys(floorRow.cpuRounds ?? {}).length && paired.every(Number.isFinite);
      row.cpuRatio = sameRounds ? round2(median(paired)) : row.cpuRatioOfMedians;
    }
    if (bar.addedP99MaxMs !== undefined && row.p99Ms !== null && floorRow.p99Ms !== null) row.addedMs = round2(row.p99Ms - floorRow.p99Ms);
    if (bar.addedP50MaxMs !== undefined && row.p50Ms !== null && floorRow.p50Ms !== null) row.addedMs = round2(row.p50Ms - floorRow.p50Ms);
  }
  if (variant.rate && row.rps !== null && !opts.smoke) {
    // Latency at a rate the process could not keep up with is queueing, not the gateway's cost.
    row.sustained = (row.keptUp ?? 0) >= 0.95 && (floorRow?.keptUp ?? 0) >= 0.95;
  }
  if (row.target === "floor") return;
  // A smoke run's few hundred requests say nothing about speed: its bars are not judged.
  const verdict = (text, met) => (row.bar = { text, met: opts.smoke ? null : met });
  if (bar.cpuRatioMin !== undefined) verdict(`cpu >=${bar.cpuRatioMin}x floor`, row.cpuRatio === undefined ? null : row.sustained === false ? null : row.cpuRatio >= bar.cpuRatioMin);
  else if (bar.ratioMin !== undefined) verdict(`>=${bar.ratioMin}x floor req/s`, row.ratio === undefined ? null : row.ratio >= bar.ratioMin);
  else if (bar.addedP99MaxMs !== undefined) verdict(`p99 +<=${bar.addedP99MaxMs} ms`, row.addedMs === undefined || row.sustained === false ? null : row.addedMs <= bar.addedP99MaxMs);
  else if (bar.addedP50MaxMs !== undefined) verdict(`p50 TTFB +<=${bar.addedP50MaxMs} ms`, row.addedMs === undefined ? null : row.addedMs <= bar.addedP50MaxMs);
  else if (bar.perStreamKBMax !== undefined) verdict(`<=${bar.perStreamKBMax} KB/stream, 0 failed`, row.extra?.perStreamKB === undefined ? null : row.extra.perStreamKB <= bar.perStreamKBMax && row.errors === 0);
  else if (bar.growthMaxPct !== undefined) verdict(`RSS growth <=${bar.growthMaxPct}%`, row.extra?.growthPct === undefined ? null : row.extra.growthPct <= bar.growthMaxPct);
}
