#!/usr/bin/env node
// Draws the traffic shares of a select-bandit run as an SVG: one line per backend, its share of
// the last `window` requests at each request, with the run's phases shaded. The data comes from
// the convergence test (test/plugins/select-bandit/convergence.test.ts writes docs/bandit-shares.json
// from its seeded simulation), so the picture in the README is the run the test checks.
//
//   node scripts/plot-bandit-shares.mjs [data.json] [out.svg]
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const WIDTH = 760;
const HEIGHT = 320;
const MARGIN = { left: 48, right: 120, top: 28, bottom: 36 };
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

/**
 * @param {{ window: number, arms: string[], phases: { label: string, from: number, to: number }[], firsts: string[] }} run
 * @returns {{ svg: string, shares: Record<string, number[]> }} the picture and the plotted series
 */
export function plotShares(run) {
  const { firsts, arms, phases } = run;
  const window = run.window;
  const shares = Object.fromEntries(arms.map((arm) => [arm, []]));
  const counts = new Map(arms.map((arm) => [arm, 0]));
  firsts.forEach((first, i) => {
    counts.set(first, counts.get(first) + 1);
    if (i >= window) counts.set(firsts[i - window], counts.get(firsts[i - window]) - 1);
    const seen = Math.min(i + 1, window);
    for (const arm of arms) shares[arm].push(counts.get(arm) / seen);
  });
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (i) => MARGIN.left + (i / Math.max(1, firsts.length - 1)) * plotW;
  const y = (share) => MARGIN.top + (1 - share) * plotH;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  phases.forEach((phase, i) => {
    const left = x(phase.from);
    const right = x(Math.min(phase.to, firsts.length - 1));
    out.push(`<rect class="phase" x="${left.toFixed(1)}" y="${MARGIN.top}" width="${(right - left).toFixed(1)}" height="${plotH}" fill="${i % 2 ? "#f2f2f2" : "#fafafa"}"/>`);
    out.push(`<text x="${(left + 4).toFixed(1)}" y="${MARGIN.top - 8}">${escapeXml(phase.label)}</text>`);
  });
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${Math.round(tick * 100)}%</text>`);
  }
  for (let i = 0; i < firsts.length; i += 100) out.push(`<text x="${x(i).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${i}</text>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 4}" text-anchor="middle">request (share of the last ${window} sent first to each backend)</text>`);
  arms.forEach((arm, a) => {
    const colour = COLOURS[a % COLOURS.length];
    const points = shares[arm].map((share, i) => `${x(i).toFixed(1)},${y(share).toFixed(1)}`).join(" ");
    out.push(`<polyline class="share" data-arm="${escapeXml(arm)}" fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/>`);
    out.push(`<text x="${MARGIN.left + plotW + 10}" y="${MARGIN.top + 14 + a * 16}" fill="${colour}">${escapeXml(arm)}</text>`);
  });
  out.push("</svg>");
  return { svg: out.join("\n") + "\n", shares };
}

function escapeXml(text) {
  return String(text).replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = new URL("..", import.meta.url);
  const input = process.argv[2] ?? fileURLToPath(new URL("docs/bandit-shares.json", root));
  const output = process.argv[3] ?? fileURLToPath(new URL("docs/bandit-shares.svg", root));
  const { svg } = plotShares(JSON.parse(await readFile(input, "utf8")));
  await writeFile(output, svg);
  console.log(`wrote ${output}`);
}
