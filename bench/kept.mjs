// What a smoke run keeps from one scenario to the next, to be quick: the servers (sharedServers)
// and the load clients (keptClients). A full run keeps neither: each scenario starts its targets
// fresh, so their RSS is the scenario's own, and each load run is a process of its own.
import { spawn } from "node:child_process";
import { nodeCommand, OUTPUT_KEPT, tail } from "./processes.mjs";

/**
 * A smoke run's servers: one per target, pipeline and CPUs, started when a scenario first needs
 * it and kept for every later one (and for scenarios running at the same time). A smoke run's
 * figures mean nothing, so its scenarios need no fresh process each, and start-ups were most of
 * its time. One that has exited (a crash is still reported by the scenario it happened in) is
 * started anew. stopAll() ends them when the run is over.
 */
export function sharedServers() {
  const started = new Map();
  async function start(target, context) {
    const key = JSON.stringify([target.name, context.scenario.pipeline, context.cpus]);
    const pending = started.get(key);
    if (pending) {
      const server = await pending.catch(() => null);
      if (server && !server.exited()) return server;
      // Another scenario may have started its replacement while this one waited.
      if (started.get(key) !== pending) return start(target, context);
    }
    const fresh = target.start(context);
    started.set(key, fresh);
    return fresh;
  }
  return {
    start,
    stopAll: () => Promise.all([...started.values()].map((p) => p.then((server) => server.stop(), () => {}))),
  };
}

/**
 * A smoke run's load clients: one process per script and CPU list (`node script --serve`, which
 * load.mjs understands), kept for the whole run and given each spec over IPC, instead of a new
 * process per run: starting one (node, then autocannon's modules) costs some 0.4 s of CPU, more
 * than a smoke run's hundred requests, and a smoke run has some 80 of them. run() resolves as
 * runClient does; runs may overlap (a --parallel run). stopAll() ends the processes.
 */
export function keptClients() {
  const kept = new Map();
  let nextId = 0;
  function clientFor(script, cpus) {
    const key = JSON.stringify([script, cpus]);
    const known = kept.get(key);
    if (known && known.exited === null) return known;
    const child = spawn(...nodeCommand([script, "--serve"], cpus), { stdio: ["ignore", "pipe", "pipe", "ipc"] });
    const entry = { child, pending: new Map(), output: "", exited: null };
    const keep = (chunk) => (entry.output = (entry.output + chunk).slice(-OUTPUT_KEPT));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("message", (msg) => {
      const waiting = entry.pending.get(msg?.id);
      if (msg?.type !== "result" || !waiting) return;
      entry.pending.delete(msg.id);
      if (msg.error) waiting.reject(new Error(`${script}: ${msg.error}`));
      else waiting.resolve(msg.result);
    });
    const fail = (why) => {
      for (const waiting of entry.pending.values()) waiting.reject(new Error(`${script} ${why}: ${tail(entry.output)}`));
      entry.pending.clear();
    };
    child.on("error", (err) => {
      entry.exited ??= { error: err };
      fail(`could not run (${err.message})`);
    });
    child.on("exit", (code, signal) => {
      entry.exited = { code, signal };
      fail(`exited ${code ?? signal}`);
    });
    kept.set(key, entry);
    return entry;
  }
  return {
    run(script, spec, { cpus = null } = {}) {
      const entry = clientFor(script, cpus);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        entry.pending.set(id, { resolve, reject });
        entry.child.send({ type: "run", id, spec });
      });
    },
    async stopAll() {
      await Promise.all(
        [...kept.values()].map((entry) => {
          if (entry.exited !== null) return undefined;
          const exit = new Promise((resolve) => entry.child.once("exit", resolve));
          entry.child.disconnect();
          return exit;
        }),
      );
    },
  };
}
