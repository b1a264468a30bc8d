/** An Explanation for people: what `switchyard explain` prints without `--json`. */
import type { BackendState } from "../health/report.js";
import type { Explanation, PlannedAttempt } from "./explain-request.js";

export function renderExplanation(e: Explanation): string {
  const lines: string[] = [];
  const r = e.request;
  lines.push(`pipeline  ${e.pipeline}`);
  lines.push(e.route ? `route     ${e.route.method} ${e.route.path}  (${e.route.format}, endpoint ${e.route.endpoint}${e.route.admin ? ", admin" : ""})` : `route     none takes ${r.method} ${r.path}`);
  const who = r.tenant === undefined ? "no tenant" : `tenant ${r.tenant}${r.keyId ? ` (key ${r.keyId})` : ""}`;
  lines.push(`request   model ${r.model ?? "(none)"}, ${r.stream ? "streamed" : "not streamed"}, ${who}`);

  lines.push("", "steps");
  const width = Math.max(4, ...e.steps.map((s) => s.id.length));
  e.steps.forEach((s, i) => {
    lines.push(`  ${String(i + 1).padStart(2)}. ${s.id.padEnd(width)}  [${s.hooks.join(", ")}]  ${s.outcome}`);
    if (s.when) lines.push(`        when: ${"failed" in s.when ? `could not be evaluated (${s.when.failed}): fails closed` : `${s.when.matches ? "matches" : "does not match"} — ${s.when.decidedBy}`}`);
    for (const said of s.says) lines.push(`        ${said}`);
  });

  if (e.plan) {
    lines.push("", "plan");
    lines.push("  candidates:");
    for (const c of e.plan.candidates) lines.push(`    ${c.backend} as ${c.model}: ${c.why}`);
    for (const s of e.plan.byStep) lines.push(`  ${s.step}: ${s.says[s.says.length - 1]}`);
    lines.push("  order:");
    e.plan.final.forEach((a, i) => lines.push(`    ${i + 1}. ${a.backend} as ${a.model}${describeState(a)}`));
  }
  if (e.attempts) {
    lines.push("", `attempts (at most ${e.attempts.maxAttempts}, moving on after ${e.attempts.on.join(", ")})`);
    for (const a of e.attempts.list) {
      const how = a.error ? `fails: ${a.error.status} ${a.error.code} (${a.error.message})` : a.passthrough ? `${a.backendFormat}, passed through` : `${a.clientFormat} → ${a.backendFormat}, translated${a.dropped.length > 0 ? `; drops ${a.dropped.join(", ")}` : ""}`;
      lines.push(`  ${a.n}. ${a.retry ? "retry " : ""}${a.backend} as ${a.model}: ${how}`);
    }
  }
  if (e.stream) lines.push("", `stream    ${e.stream.relayed ? `relayed, idle timeout ${e.stream.idleTimeoutMs} ms` : "no stream step: refused"}`);
  if (e.reserves.length > 0) {
    lines.push("", "would reserve (nothing was)");
    for (const w of e.reserves) {
      const amount = w.unit === "usd" ? `$${w.amount.toFixed(6)} of $${w.limit.toFixed(2)}` : `${w.amount} ${w.unit} of ${w.limit}`;
      const used = w.used === undefined ? "" : w.unit === "usd" ? `, $${w.used.toFixed(6)} used` : `, ${w.used} used`;
      lines.push(`  ${w.step} ${w.rule}: ${amount}${w.per ? ` per ${w.per}` : " at once"} by ${w.subject}${used}${w.fits ? "" : "  <- REFUSES"}`);
    }
  }
  if (e.refusal) {
    lines.push("", `client gets ${e.refusal.status}${Object.keys(e.refusal.headers).length > 0 ? ` (${Object.entries(e.refusal.headers).map(([k, v]) => `${k}: ${v}`).join(", ")})` : ""}`);
    lines.push(`  ${JSON.stringify(e.refusal.body)}`);
  }
  lines.push("", `verdict   ${e.verdict}`);
  return lines.join("\n") + "\n";
}

function describeState(a: PlannedAttempt): string {
  const s: BackendState | undefined = a.state;
  if (!s) return "";
  const parts: string[] = [];
  if (s.breaker) parts.push(`breaker ${s.breaker.state}${s.breaker.rateLimited ? ", rate-limited" : ""}${s.breaker.availableInMs > 0 ? `, back in ${Math.ceil(s.breaker.availableInMs)} ms` : ""}`);
  if (s.probe) parts.push(`probe ${s.probe.healthy ? "healthy" : "unhealthy"}`);
  return parts.length > 0 ? `  (${parts.join("; ")})` : "";
}
