// Starting, measuring and stopping the bench's processes. Every server runs in its own node
// process on loopback, preloaded with probe.mjs so its heap can be read over IPC.
import { execSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import { request } from "undici";
import { parseCpuList } from "./pinning.mjs";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const PROBE = pathToFileURL(`${BENCH_DIR}probe.mjs`).href;
export const OUTPUT_KEPT = 16 * 1024;

/** Ports freePort() has handed out in this process. */
const handedOut = new Set();

/**
 * A port free right now on 127.0.0.1 (for servers that cannot listen on port 0 and tell us).
 * Never one it gave before: servers started at the same time (a --parallel run) could otherwise
 * be told the same port, since the kernel may offer a port again as soon as it is closed.
 */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.unref();
      s.on("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** VmRSS and VmHWM (peak) of a process, in KB, from /proc. */
export function procMemoryKB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssKB: field("VmRSS"), hwmKB: field("VmHWM") };
  } catch {
    return { rssKB: null, hwmKB: null };
  }
}

let ticksPerSec = null;
/** The kernel's clock tick (USER_HZ), the unit of /proc/<pid>/stat's CPU times; read once. */
export function clockTicksPerSec() {
  if (ticksPerSec === null) {
    try {
      ticksPerSec = Number(execSync("getconf CLK_TCK", { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()) || 100;
    } catch {
      ticksPerSec = 100;
    }
  }
  return ticksPerSec;
}

/** CPU time a process has used so far (utime + stime, all its threads), in clock ticks; null when gone. */
export function procCpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/**
 * Ticks spent so far by the given CPUs (a taskset list; null = the whole machine): `total` and
 * `steal` (time the hypervisor ran someone else while this VM wanted the CPU), from /proc/stat.
 */
export function cpuStealTicks(cpus) {
  try {
    const wanted = cpus ? new Set(parseCpuList(cpus).map((c) => `cpu${c}`)) : new Set(["cpu"]);
    let total = 0;
    let steal = 0;
    for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
      const fields = line.split(/\s+/);
      if (!wanted.has(fields[0])) continue;
      // user nice system idle iowait irq softirq steal (guest time is already inside user)
      const ticks = fields.slice(1, 9).map(Number);
      total += ticks.reduce((a, b) => a + b, 0);
      steal += ticks[7] ?? 0;
    }
    return total > 0 ? { total, steal } : null;
  } catch {
    return null;
  }
}

/** `node args...`, under `taskset -c cpus` when the process is to be pinned, under `wrap` (a command and its arguments, such as valgrind) when given. */
export function nodeCommand(args, cpus, wrap = []) {
  const command = [...wrap, process.execPath, ...args];
  if (cpus) command.unshift("taskset", "-c", cpus);
  return [command[0], command.slice(1)];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `node [--expose-gc --import probe] script ...args`. Ready when stdout prints
 * "listening <url>" (ready: "line") or when GET <readyUrl> answers 200 (ready: { url }).
 * Rejects with the process's own output when it exits or stalls before it is ready. `cpus` (a
 * taskset list such as "1") pins it and every thread it starts to those CPUs. `wrap` runs node
 * under another command (valgrind for bench/instructions.mjs); `nodeOptions` go before the script.
 */
export async function startServer({ name, script, args = [], env = {}, ready = "line", probe = true, timeoutMs = 60_000, cpus = null, wrap = [], nodeOptions = [] }) {
  const nodeArgs = [...nodeOptions, ...(probe ? ["--expose-gc", "--import", PROBE, script, ...args] : [script, ...args])];
  // taskset (and valgrind) exec node in place, so child.pid is node's own pid (for /proc and signals).
  const child = spawn(...nodeCommand(nodeArgs, cpus, wrap), { stdio: ["ignore", "pipe", "pipe", "ipc"], env: { ...process.env, ...env } });
  let output = "";
  let exited = null;
  const keep = (chunk) => {
    output += chunk.toString("utf8");
    if (output.length > OUTPUT_KEPT * 2) output = output.slice(-OUTPUT_KEPT);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve((exited = { code, signal }))));
  child.on("error", keep);
  // The IPC channel must not hold the bench open once everything is stopped.
  child.channel?.unref();

  const server = {
    name,
    pid: child.pid,
    child,
    url: null,
    cpus,
    output: () => output.slice(-OUTPUT_KEPT),
    exited: () => exited,
    /** Memory now: RSS from /proc; heap from the probe (null without one). `gc` runs a full GC first. */
    async memory({ gc = false } = {}) {
      const heap = probe && exited === null ? await askMemory(child, gc) : null;
      return { ...procMemoryKB(child.pid), heapUsed: heap?.heapUsed ?? null, heapTotal: heap?.heapTotal ?? null, external: heap?.external ?? null };
    },
    /** CPU time used so far in clock ticks (see clockTicksPerSec); null once the process is gone. */
    cpuTicks: () => (exited === null ? procCpuTicks(child.pid) : null),
    async stop() {
      if (exited !== null) return exited;
      child.kill("SIGTERM");
      const done = await Promise.race([exit, sleep(5000).then(() => null)]);
      if (done) return done;
      child.kill("SIGKILL");
      return exit;
    },
  };

  const deadline = Date.now() + timeoutMs;
  const failure = (why) => new Error(`${name} ${why}:\n${tail(output)}`);
  if (ready === "line") {
    server.url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(failure(`not listening after ${timeoutMs} ms`)), timeoutMs);
      const onData = () => {
        const m = /listening (http:\/\/\S+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          child.stdout.off("data", onData);
          resolve(m[1]);
        }
      };
      child.stdout.on("data", onData);
      exit.then((e) => { clearTimeout(timer); reject(failure(`exited (${e.code ?? e.signal}) before listening`)); });
    }).catch(async (err) => { await server.stop(); throw err; });
    return server;
  }
  server.url = ready.baseUrl;
  for (;;) {
    if (exited !== null) throw failure(`exited (${exited.code ?? exited.signal}) before it was ready`);
    if (Date.now() > deadline) {
      await server.stop();
      throw failure(`not ready after ${timeoutMs} ms`);
    }
    try {
      const res = await request(ready.url, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (ready.accept ? ready.accept(res.statusCode) : res.statusCode === 200) return server;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
}

function askMemory(child, gc) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off("message", onMessage); resolve(null); }, 10_000);
    const onMessage = (msg) => {
      if (msg?.type !== "memory") return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(msg);
    };
    child.on("message", onMessage);
    try {
      child.send({ type: "memory", gc });
    } catch {
      clearTimeout(timer);
      resolve(null);
    }
  });
}

/** The last few lines of a process's output, for error messages. */
export function tail(text, lines = 15) {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Runs a bench client script (load.mjs, streams.mjs) with a JSON spec in its own process and
 * resolves with the JSON line it prints. `onMessage` receives its IPC messages (with a reply fn);
 * `cpus` pins it as startServer does.
 */
export function runClient(script, spec, { onMessage, cpus = null } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(...nodeCommand([script, JSON.stringify(spec)], cpus), { stdio: ["ignore", "pipe", "pipe", "ipc"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    if (onMessage) child.on("message", (msg) => onMessage(msg, (reply) => child.connected && child.send(reply)));
    child.on("error", reject);
    child.on("exit", (code) => {
      const line = out.trim().split("\n").pop();
      if (code === 0 && line) {
        try {
          return resolve(JSON.parse(line));
        } catch {
          // fall through to the error below
        }
      }
      reject(new Error(`${script} exited ${code}: ${tail(err || out)}`));
    });
  });
}
