// The bench's table: one row per scenario, variant and target, figures beside the floor's.

const fmt = (n, digits = 2) => (n === null || n === undefined ? "" : typeof n === "number" ? n.toFixed(digits) : String(n));
const us = (n) => (n === null || n === undefined ? "" : n.toFixed(n >= 100 ? 0 : 1));
const mb = (kb) => (kb === null || kb === undefined || Number.isNaN(kb) ? "" : (kb / 1024).toFixed(1));

function notes(row, report) {
  if (row.status === "skipped") return `skipped: ${shorten(row.reason)}`;
  const parts = [];
  if (row.status === "failed") parts.push(`FAILED: ${shorten(row.reason)}`);
  if (row.sustained === false) parts.push(`offered rate not sustained on this machine: latency is queueing, bar not judged`);
  if (row.bar && row.bar.met !== null) parts.push(`${row.bar.met ? "meets" : "MISSES"} bar ${row.bar.text}`);
  const x = row.extra ?? {};
  if (x.perStreamKB !== undefined) parts.push(`${x.perStreamKB} KB RSS per open stream, of it V8 heap ${x.perStreamHeapKB ?? "?"} KB used of ${x.perStreamHeapTotalKB ?? "?"} KB committed (${x.openAtMeasure} open after ${x.openMs} ms)`);
  if (row.kind === "hold" && x.openAtMeasure !== undefined && x.openAtMeasure !== null && x.openAtMeasure < row.expected) {
    parts.push(`only ${x.openAtMeasure} of ${row.expected} were open at once: raise --hold-sec`);
  }
  if (x.growthPct !== undefined) parts.push(`RSS ${mb(x.rssCheckpointKB)} MB at ${x.checkpoint}, ${mb(x.rssEndKB)} MB at end (${x.growthPct}%); heap ${x.heapCheckpointMB} -> ${x.heapEndMB} MB`);
  if (x.perSessionKB !== undefined) parts.push(`${x.perSessionKB} KB RSS + ${x.perSessionHeapKB ?? "?"} KB heap per open MCP session (${x.openSessions} open, each with its upstream session)`);
  if (x.offeredRps !== undefined) parts.push(`offered ${x.offeredRps} req/s`);
  if (x.headersP50Ms !== undefined) parts.push(`headers p50 ${x.headersP50Ms} ms`);
  if (row.kind === "hold" || row.kind === "ttfb") parts.push(`${row.completed}/${row.expected} streams completed`);
  // A run's CPU time is counted in whole clock ticks: a short run's figure is coarse.
  if (report.mode !== "smoke" && typeof row.cpuTicks === "number" && row.cpuTicks < 100) {
    const tickMs = 1000 / (report.machine.clockTicksPerSec ?? 100);
    parts.push(`cpu from ~${Math.round(row.cpuTicks)} ticks of ${tickMs} ms per run (±${Math.ceil(100 / Math.max(1, row.cpuTicks))}%)`);
  }
  return parts.join("; ");
}

const shorten = (text = "", max = 140) => {
  const one = String(text).replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};

export function renderTable(report) {
  const header = ["scenario", "variant", "target", "req/s", "p50 ms", "p99 ms", "x floor", "added ms", "cpu µs/req", "cpu x floor", "RSS MB", "notes"];
  const lines = [header];
  for (const s of report.scenarios) {
    for (const r of s.rows) {
      lines.push([
        `${s.n} ${s.id}`,
        r.variant,
        r.target,
        fmt(r.rps, 0),
        fmt(r.p50Ms),
        fmt(r.p99Ms),
        fmt(r.ratio),
        fmt(r.addedMs),
        us(r.cpuUsPerReq),
        fmt(r.cpuRatio),
        mb(r.rssKB),
        notes(r, report),
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const numeric = new Set([3, 4, 5, 6, 7, 8, 9, 10]);
  const render = (l) => l.map((cell, i) => (i === l.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ");
  const out = [render(lines[0]), widths.map((w, i) => "-".repeat(i === widths.length - 1 ? 5 : w)).join("  "), ...lines.slice(1).map(render)];
  if (report.mode === "smoke") out.push("", "smoke run: about a hundred requests each, checked for completion only; the figures mean nothing and no bar is judged.");
  const kinds = new Set(report.scenarios.flatMap((s) => s.rows.map((r) => r.kind)));
  out.push("", `${report.pinning?.note ?? "not pinned"}.`);
  const steal = report.scenarios.flatMap((s) => s.rows.map((r) => r.stealPct)).filter((n) => typeof n === "number");
  if (steal.length > 0) {
    const where = report.pinning?.enabled ? "the measured server's CPU" : "the machine";
    const range = `${Math.min(...steal)}-${Math.max(...steal)}%`;
    out.push(`hypervisor steal on ${where} during the measured runs: ${range} (medians per row)${Math.max(...steal) >= 10 ? "; with this much, req/s swings between rounds and cpu x floor is the steadier ratio" : ""}.`);
  }
  const processes = report.mode === "smoke" ? 1 : Math.min(report.options?.processes ?? 1, report.options?.rounds ?? 1);
  const spread = processes > 1 ? `, spread over ${processes} fresh processes per target (the hold scenario: one)` : "";
  out.push(`req/s, p50, p99, cpu µs/req: medians over the rounds${spread}; RSS MB: the ${processes > 1 ? "last " : ""}process at the end of the scenario.`);
  out.push("cpu µs/req: the server's own CPU time (utime + stime) over the run per completed request; cpu x floor = the floor's over the target's (0.80: the target needs 1.25x the floor's CPU), taken round by round, then the median (cpuRatioOfMedians in --json: the ratio of the two medians).");
  if (kinds.has("load")) out.push("@rate rows: a fixed offered rate; added ms = p99 over the floor's.");
  if (kinds.has("ttfb")) out.push("ttfb rows: p50/p99 are the time to the first streamed byte, one stream at a time; added ms = p50 over the floor's.");
  if (kinds.has("hold")) out.push("hold rows: p50/p99 are the time to the first byte while all streams open; per-stream memory is measured (after a GC) while all are open.");
  return out.join("\n");
}
