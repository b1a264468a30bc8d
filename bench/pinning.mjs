// Core pinning (--pin): the measured server runs alone on the last CPU the harness may use; the
// upstream, the load generator and the harness itself share the others. The measured server is
// then the bottleneck for the floor and a gateway alike, so the req/s ratio says what the gateway
// costs rather than how the scheduler shared the cores between it and the load generator.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

/** The CPUs this process may run on (Cpus_allowed_list in /proc, e.g. "0-3,6"), ascending. */
export function allowedCpus() {
  try {
    const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (list) return parseCpuList(list);
  } catch {
    // not Linux, or no /proc: fall back to every CPU
  }
  return os.cpus().map((_, i) => i);
}

export function parseCpuList(list) {
  const cpus = [];
  for (const part of list.split(",")) {
    const [from, to = from] = part.split("-").map(Number);
    for (let c = from; c <= to; c++) cpus.push(c);
  }
  return cpus.sort((a, b) => a - b);
}

function hasTaskset() {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides the pinning and pins the harness (all its threads) to the non-server CPUs, so clients
 * it starts stay there even unpinned. Returns { enabled, server, others, all, note }: `server`,
 * `others` and `all` (every CPU the bench may use, for unpinned scenarios) are taskset lists
 * (null when not pinned); `note` says what was done or why not.
 */
export function setUpPinning(wanted) {
  const off = (why) => ({ enabled: false, server: null, others: null, all: null, note: `not pinned: ${why}` });
  if (!wanted) return off("--no-pin");
  const cpus = allowedCpus();
  if (cpus.length < 2) return off(`only ${cpus.length} CPU available, nothing to set apart`);
  if (!hasTaskset()) return off("taskset not found (util-linux)");
  const server = String(cpus[cpus.length - 1]);
  const others = cpus.slice(0, -1).join(",");
  try {
    execFileSync("taskset", ["-a", "-p", "-c", others, String(process.pid)], { stdio: "ignore" });
  } catch (err) {
    return off(`taskset could not pin the harness (${err.message.split("\n")[0]})`);
  }
  const plural = (list) => (list.includes(",") ? `CPUs ${list}` : `CPU ${list}`);
  return { enabled: true, server, others, all: cpus.join(","), note: `pinned: the measured server alone on ${plural(server)}; upstream, load generator and harness on ${plural(others)}` };
}
