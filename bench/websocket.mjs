// The websocket scenario (`node bench/run.mjs --websocket`): messages per second echoed through a
// switchyard proxy route against the same echo backend dialled directly. Each of `connections`
// sessions keeps WINDOW messages in flight for `duration` seconds; the figure is echoes received
// per second, a median over the rounds, the ratio being switchyard's over the direct one.
import { join } from "node:path";
import WebSocket from "ws";
import { startServer } from "./processes.mjs";
import { switchyardTarget } from "./targets.mjs";

const WINDOW = 16;
const PAYLOAD = Buffer.alloc(128, "x").toString();

/** Echoes per second over `seconds`, `connections` sessions to `url` at once. */
async function measure(url, connections, seconds) {
  const sockets = await Promise.all(Array.from({ length: connections }, () => new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  })));
  let echoed = 0;
  let running = true;
  for (const socket of sockets) {
    socket.on("message", () => {
      echoed++;
      if (running) socket.send(PAYLOAD);
    });
    for (let i = 0; i < WINDOW; i++) socket.send(PAYLOAD);
  }
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  const rate = echoed / ((performance.now() - started) / 1000);
  await Promise.all(sockets.map((socket) => new Promise((resolve) => {
    socket.once("close", resolve);
    socket.close();
  })));
  return rate;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runWebSocketScenario({ rootDir, benchDir, recordsFile, opts, log, pin }) {
  const scenario = { id: "websocket", n: 9, title: "WebSocket messages per second, echo backend, direct vs through switchyard", pipeline: "websocket" };
  const echo = await startServer({ name: "ws-echo", script: join(benchDir, "ws-echo.mjs"), probe: false, cpus: pin.others });
  const switchyard = switchyardTarget({ rootDir, benchDir, recordsFile, logLevel: opts.logLevel });
  const rows = [];
  try {
    const direct = [];
    const through = [];
    const gateway = await switchyard.start({ upstream: echo, scenario, cpus: pin.server });
    try {
      const seconds = opts.smoke ? 1 : opts.duration;
      const connections = Math.min(opts.connections, 32);
      for (let round = 0; round < opts.rounds; round++) {
        direct.push(await measure(`${echo.url.replace(/^http/, "ws")}/echo`, connections, seconds));
        through.push(await measure(`${gateway.url.replace(/^http/, "ws")}/echo`, connections, seconds));
        log(`[websocket] round ${round + 1}: direct ${Math.round(direct.at(-1))} msg/s, switchyard ${Math.round(through.at(-1))} msg/s`);
      }
    } finally {
      await gateway.stop();
    }
    rows.push({ variant: "echo msg/s", target: "direct", kind: "ws", rps: median(direct) });
    rows.push({ variant: "echo msg/s", target: "switchyard", kind: "ws", rps: median(through), ratio: median(through) / median(direct) });
    return { ...scenario, status: "ok", rows };
  } catch (err) {
    return { ...scenario, status: "failed", reason: String(err.message ?? err), rows: [{ variant: "echo msg/s", target: "switchyard", status: "failed", reason: String(err.message ?? err) }] };
  } finally {
    await echo.stop();
  }
}
