/** Runs the compiled CLI (dist/) as users do: a child process with its own stdout and exit code. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { WAIT_MS } from "./wait.js";

export const CLI = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  stderr(): string;
  /** Resolves once stderr (where the gateway logs) matches `pattern`; fails after `timeoutMs` showing what it printed. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** `switchyard serve <paths> --port 0`, resolved once it printed where it listens. */
export function serve(paths: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, "serve", ...paths, "--port", "0"], { env: { ...process.env, LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  const stderrWaits = new Set<() => void>();
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const check of stderrWaits) check();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitForStderr = (pattern: RegExp, timeoutMs = WAIT_MS) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stderrWaits.delete(check);
        reject(new Error(`switchyard printed nothing matching ${pattern} to stderr in ${timeoutMs} ms:\n${stderr}`));
      }, timeoutMs);
      function check() {
        if (!pattern.test(stderr)) return;
        clearTimeout(timer);
        stderrWaits.delete(check);
        resolve();
      }
      stderrWaits.add(check);
      check();
    });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, exited, stderr: () => stderr, waitForStderr });
    });
    void exited.then((code) => reject(new Error(`switchyard exited with ${code} before listening:\n${stderr}`)));
  });
}

export function run(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // "close", not "exit": "exit" can come before the last output was read from the pipes.
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
