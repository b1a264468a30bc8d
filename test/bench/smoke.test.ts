import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

// The bench's own smoke run (`node bench/run.mjs --smoke --json`): about a hundred requests per
// run, every scenario and variant, against the bare-proxy floor and switchyard as built in dist/
// (`npm test` builds it first; see bench/README.md for what a smoke run shares to be quick). Only completion and errors are asserted here; the figures of a smoke run mean nothing
// and are never checked. It loads the machine, so vitest.config.ts runs it after every other file.

interface Row {
  scenario: string;
  variant: string;
  target: string;
  status: "ok" | "skipped" | "failed";
  reason?: string;
  errors?: number;
  non2xx?: number;
  completed?: number;
  expected?: number | null;
  cpuUsPerReq?: number | null;
  cpuTicks?: number | null;
}
interface Report {
  ok: boolean;
  mode: string;
  switchyard: { available: boolean; reason?: string };
  pinning: { enabled: boolean; serverCpus: string | null; otherCpus: string | null; note: string };
  scenarios: { id: string; status: string; reason?: string; rows: Row[] }[];
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SMOKE_TIMEOUT_MS = 15 * 60_000;
const DEFAULT_SCENARIOS = ["chat", "chat-20k", "stream", "stream-paced", "stream-burst", "anthropic", "to-anthropic", "http", "hold", "chat-nopin", "metrics", "cache"];

function runSmoke(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bench/run.mjs", "--smoke", "--json"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), SMOKE_TIMEOUT_MS - 30_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("bench smoke run", () => {
  let run: { code: number | null; stdout: string; stderr: string };
  let report: Report;
  let rows: Row[];

  beforeAll(async () => {
    run = await runSmoke();
    try {
      report = JSON.parse(run.stdout) as Report;
    } catch {
      throw new Error(`bench printed no JSON report (exit ${run.code}):\n${run.stderr.slice(-4000)}`);
    }
    rows = report.scenarios.flatMap((s) => s.rows);
  }, SMOKE_TIMEOUT_MS);

  it("exits 0 and reports every default scenario in smoke mode", () => {
    expect(report.mode).toBe("smoke");
    expect(report.scenarios.map((s) => s.id)).toEqual(DEFAULT_SCENARIOS);
    const failed = report.scenarios.filter((s) => s.status === "failed").map((s) => ({ id: s.id, reason: s.reason, rows: s.rows.filter((r) => r.status === "failed") }));
    expect(failed).toEqual([]);
    expect(run.code, run.stderr.slice(-4000)).toBe(0);
  });

  it("completes every request of every row that ran, with 0 errors and 0 non-2xx replies", () => {
    const ran = rows.filter((r) => r.status !== "skipped");
    expect(ran.length).toBeGreaterThan(0);
    for (const r of ran) {
      const label = `${r.scenario}/${r.variant}/${r.target}: ${r.reason ?? ""}`;
      expect(r.status, label).toBe("ok");
      expect(r.errors, label).toBe(0);
      if (r.non2xx !== undefined) expect(r.non2xx, label).toBe(0);
      expect(r.expected, label).toBeGreaterThan(0);
      expect(r.completed, label).toBe(r.expected);
    }
  });

  it("runs the floor in every scenario, so each has a baseline", () => {
    for (const s of report.scenarios) {
      expect(s.rows.some((r) => r.target === "floor" && r.status === "ok"), s.id).toBe(true);
    }
  });

  it("reads the server's own CPU time for every row that ran, and says how the processes were pinned", () => {
    for (const r of rows.filter((row) => row.status === "ok")) {
      const label = `${r.scenario}/${r.variant}/${r.target}`;
      expect(typeof r.cpuTicks, label).toBe("number");
      expect(r.cpuTicks, label).toBeGreaterThanOrEqual(0);
      expect(typeof r.cpuUsPerReq, label).toBe("number");
    }
    expect(report.pinning.note).toMatch(/^(pinned|not pinned)/);
    if (report.pinning.enabled) expect(report.pinning.serverCpus).not.toBe(report.pinning.otherCpus);
  });

  it("runs the metrics scenario with metrics off and on, so the report has both CPU figures", () => {
    const metrics = report.scenarios.find((s) => s.id === "metrics")!;
    for (const target of ["switchyard", "switchyard +metrics"]) {
      expect(metrics.rows.find((r) => r.target === target)?.status, target).toBe("ok");
    }
  });

  it("says why for every row it skipped", () => {
    for (const r of rows.filter((row) => row.status === "skipped")) {
      expect(typeof r.reason === "string" && r.reason.length > 10, `${r.scenario}/${r.variant}/${r.target}`).toBe(true);
    }
  });

  it("runs switchyard, as built in dist/, in every scenario, the plain-HTTP one included", () => {
    // A smoke run without the product proves nothing: a missing build fails here, it is not skipped.
    expect(report.switchyard, "npm run build makes dist/cli/main.js").toEqual({ available: true });
    for (const s of report.scenarios) {
      const ran = s.rows.filter((row) => row.target === "switchyard");
      expect(ran.length, s.id).toBeGreaterThan(0);
      for (const r of ran) expect(r.status, `${r.scenario}/${r.variant}: ${r.reason ?? ""}`).toBe("ok");
    }
  });
});
