/**
 * A throwaway redis-server for tests: its own port on 127.0.0.1 and temp dir, no persistence.
 * `kill()` takes it down hard (an outage), `start()` brings it back on the same port, `pause()`
 * hangs it.
 * Needs the `redis-server` binary (Debian package redis-server).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { missingBinaryError, onPath, skipWithout } from "./required-binaries.js";

const REDIS = { what: "redis-server", debianPackage: "redis-server" };

/** For `describe.skipIf`: true (said once on stderr) when redis-server is missing and CI is not set. */
export const skipWithoutRedis = (): boolean => skipWithout({ ...REDIS, found: onPath("redis-server") });

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Starts it again (after `kill`) on the same port. */
  start(): Promise<void>;
  /** SIGKILL: the server vanishes mid-whatever, as in a crash. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a hung server whose connections stay open. */
  pause(): void;
  resume(): void;
  /** Shuts it down and removes its dir. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const proc = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "notice", "--logfile", ""],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`redis-server not ready after ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      };
      function fail(err: Error) {
        clearTimeout(timer);
        proc.kill("SIGKILL");
        reject(err);
      }
      proc.stdout?.on("data", onData);
      proc.stderr?.on("data", onData);
      proc.once("error", (err: NodeJS.ErrnoException) => fail(err.code === "ENOENT" ? missingBinaryError(REDIS) : err));
      proc.once("exit", (code) => fail(new Error(`redis-server exited with ${code}:\n${output}`)));
    });
  }

  async function kill(): Promise<void> {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill("SIGKILL");
    await exited(c);
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    pause: () => void child?.kill("SIGSTOP"),
    resume: () => void child?.kill("SIGCONT"),
    async stop() {
      child?.kill("SIGCONT");
      if (child) {
        const c = child;
        child = undefined;
        c.kill("SIGTERM");
        await exited(c);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
