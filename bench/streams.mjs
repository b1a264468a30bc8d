// The bench's own streaming client (undici), in a process of its own, for what autocannon cannot
// see: time to the first streamed byte, and thousands of slow streams held open at once.
//
// Usage: node bench/streams.mjs '<spec json>'   prints one JSON line with the results.
// spec.mode "ttfb": { url, method, headers, body, count, concurrency, marker, timeoutMs, bailAfter }
//   `count` streams, `concurrency` at a time, each failed after timeoutMs (30 s), all stopped
//   after bailAfter (3) failures; reports headers / first-byte / total times.
// spec.mode "hold": { url, method, headers, body, streams, marker, timeoutMs }
//   opens `streams` streams at once and reads each to its end. When every stream has had its
//   first byte, sends {type:"open"} over the IPC channel (when there is one) so the parent can
//   measure the server while all of them are open, and waits for {type:"measured"} (or 2 s).
// A stream counts as completed when its status is 200 and its body contains `marker`.
import { Pool } from "undici";

const spec = JSON.parse(process.argv[2] ?? "{}");
const url = new URL(spec.url);
const marker = spec.marker ?? "";
const keep = Math.max(4, marker.length - 1);
const requestBody = spec.body === undefined ? undefined : typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body);
const now = () => performance.now();

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const summary = (values) => {
  const s = Float64Array.from(values).sort();
  const r = (n) => (n === null ? null : Math.round(n * 1000) / 1000);
  return { p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? null) };
};

/**
 * One stream: resolves with its timings; `onFirstByte` fires once. Never rejects. `timeoutMs`
 * bounds the whole stream, since keep-alive comments can keep a stream that never ends alive.
 */
async function oneStream(pool, timeoutMs, onFirstByte) {
  const t0 = now();
  let headersMs = null;
  let firstByteMs = null;
  let carry = "";
  let events = 0;
  try {
    const { statusCode, body } = await pool.request({
      method: spec.method ?? "POST",
      path: url.pathname + url.search,
      headers: spec.headers ?? {},
      body: requestBody,
      signal: AbortSignal.timeout(timeoutMs),
    });
    headersMs = now() - t0;
    let seen = marker === "";
    for await (const chunk of body) {
      if (firstByteMs === null) {
        firstByteMs = now() - t0;
        onFirstByte?.();
      }
      // `carry` holds the end of the previous chunk, so a marker or a "data:" split across two
      // chunks is still found; a "data:" lying wholly inside it was counted already.
      const text = carry + chunk.toString("latin1");
      for (let i = text.indexOf("data:"); i !== -1; i = text.indexOf("data:", i + 5)) if (i + 5 > carry.length) events++;
      if (!seen && text.includes(marker)) seen = true;
      carry = text.slice(-keep);
    }
    if (statusCode !== 200) return { ok: false, error: `status ${statusCode}`, headersMs, firstByteMs, totalMs: now() - t0, events };
    if (!seen) return { ok: false, error: `stream ended without ${JSON.stringify(marker)}`, headersMs, firstByteMs, totalMs: now() - t0, events };
    return { ok: true, headersMs, firstByteMs, totalMs: now() - t0, events };
  } catch (err) {
    const error = err?.name === "TimeoutError" ? `not complete within ${timeoutMs} ms` : String(err?.code ?? err?.message ?? err);
    return { ok: false, error, headersMs, firstByteMs, totalMs: now() - t0, events };
  }
}

function tally(results) {
  const failed = results.filter((r) => !r.ok);
  const errors = {};
  for (const r of failed) errors[r.error] = (errors[r.error] ?? 0) + 1;
  const ok = results.filter((r) => r.ok);
  return {
    streams: results.length,
    completed: ok.length,
    failed: failed.length,
    errors,
    headersMs: summary(ok.map((r) => r.headersMs)),
    ttfbMs: summary(ok.map((r) => r.firstByteMs ?? r.totalMs)),
    totalMs: summary(ok.map((r) => r.totalMs)),
    eventsPerStream: ok.length ? Math.round(ok.reduce((a, r) => a + r.events, 0) / ok.length) : 0,
  };
}

async function ttfb() {
  const count = spec.count ?? 200;
  const concurrency = spec.concurrency ?? 1;
  // A stream that stalls must fail, not hang the bench.
  const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const results = [];
  const bailAfter = spec.bailAfter ?? 3;
  let failures = 0;
  let next = 0;
  async function worker() {
    // A target whose streams fail (or hang until the timeout) fails fast instead of for each stream.
    while (next < count && failures < bailAfter) {
      next++;
      const r = await oneStream(pool, spec.timeoutMs ?? 30_000);
      if (!r.ok) failures++;
      results.push(r);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  await pool.destroy();
  return { ...tally(results), streams: count };
}

async function hold() {
  const n = spec.streams ?? 1000;
  const pool = new Pool(url.origin, { connections: n, pipelining: 1, connectTimeout: 60_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const started = now();
  let firstBytes = 0;
  let ended = 0;
  let openMs = null;
  let openAtMeasure = null;
  let measured = Promise.resolve();
  const onFirstByte = () => {
    if (++firstBytes !== n) return;
    openMs = now() - started;
    openAtMeasure = n - ended; // short holds may see early streams end before the last one opens
    if (process.send) {
      measured = new Promise((resolve) => {
        const done = () => { clearTimeout(timer); resolve(); };
        const timer = setTimeout(done, 2000);
        process.once("message", done);
        process.send({ type: "open", streams: n, open: openAtMeasure, openMs });
      });
    }
  };
  const deadline = new Promise((resolve) => setTimeout(resolve, spec.timeoutMs ?? 300_000).unref());
  const all = Promise.all(Array.from({ length: n }, () => oneStream(pool, spec.timeoutMs ?? 300_000, onFirstByte).finally(() => ended++)));
  const results = await Promise.race([all, deadline.then(() => null)]);
  await measured;
  pool.destroy().catch(() => {});
  if (results === null) return { streams: n, completed: 0, failed: n, errors: { timeout: n }, openMs, openAtMeasure };
  return { ...tally(results), openMs: openMs === null ? null : Math.round(openMs), openAtMeasure, wallMs: Math.round(now() - started) };
}

const run = spec.mode === "hold" ? hold : ttfb;
run().then(
  (out) => {
    process.stdout.write(JSON.stringify({ mode: spec.mode ?? "ttfb", url: spec.url, ...out }) + "\n");
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`streams: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
