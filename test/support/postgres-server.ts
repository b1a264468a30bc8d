/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp dir, pg_ctl on its own port on
 * 127.0.0.1, trust auth, fsync off. synchronous_commit stays on: with it off, a crash of the
 * server process (`stopServer("immediate")`) loses commits it had already acknowledged.
 * PostgreSQL refuses to run as root, so under root every server command runs as the `postgres`
 * user (`runuser`), with the temp dir handed to it.
 * Needs the Debian package postgresql (binaries under /usr/lib/postgresql/<version>/bin).
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";
import { missingBinaryError, onPath, skipWithout } from "./required-binaries.js";

const POSTGRES = { what: "PostgreSQL (initdb, pg_ctl)", debianPackage: "postgresql" };

/** For `describe.skipIf`: true (said once on stderr) when PostgreSQL is missing and CI is not set. */
export const skipWithoutPostgres = (): boolean => skipWithout({ ...POSTGRES, found: binDir() !== "" || (onPath("initdb") && onPath("pg_ctl")) });

const run = promisify(execFile);

export interface PostgresServer {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth: no password). */
  readonly url: string;
  start(): Promise<void>;
  /** `fast` rolls back open transactions and disconnects clients; `immediate` is a crash. */
  stopServer(mode?: "fast" | "immediate"): Promise<void>;
  /** Stops the server and removes its dir. */
  stop(): Promise<void>;
}

function binDir(): string {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(root, v, "bin", "pg_ctl"))) return join(root, v, "bin");
  }
  return ""; // rely on PATH
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = binDir();
  if (bin === "" && !onPath("initdb")) throw missingBinaryError(POSTGRES);
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const asRoot = process.getuid?.() === 0;
  const exec = async (file: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
    return run(cmd, argv, { timeout: 60_000 });
  };

  const dir = await mkdtemp(join(tmpdir(), "switchyard-pg-"));
  if (asRoot) {
    const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
    const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
    await chown(dir, uid, gid);
  }
  const data = join(dir, "data");
  const logFile = join(dir, "server.log");
  const port = await freePort();

  await exec(tool("initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);

  async function start(): Promise<void> {
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    try {
      await exec(tool("pg_ctl"), ["-D", data, "-o", options, "-l", logFile, "-w", "-t", "30", "start"]);
    } catch (err) {
      const log = await readFile(logFile, "utf8").catch(() => "");
      throw new Error(`pg_ctl start failed: ${(err as Error).message}\n${log}`);
    }
  }
  async function stopServer(mode: "fast" | "immediate" = "fast"): Promise<void> {
    await exec(tool("pg_ctl"), ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]).catch(() => undefined);
  }

  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stopServer,
    async stop() {
      await stopServer("fast");
      await rm(dir, { recursive: true, force: true });
    },
  };
}
