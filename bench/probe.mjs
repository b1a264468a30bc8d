// Preloaded (node --expose-gc --import bench/probe.mjs ...) into every server the bench starts, so
// the harness can read the server's own heap, which /proc cannot show. Answers
// {type:"memory", gc} on the IPC channel with process.memoryUsage(), after a full GC when asked.
// Exits when the harness goes away. Does nothing when the process has no IPC channel.
if (typeof process.send === "function") {
  process.on("message", (msg) => {
    if (msg?.type !== "memory") return;
    if (msg.gc && typeof globalThis.gc === "function") globalThis.gc();
    process.send({ type: "memory", ...process.memoryUsage() });
  });
  // A harness that dies (killed by a test timeout, say) must not leave its servers running.
  process.on("disconnect", () => process.exit(0));
  // The channel must not keep a server alive that would otherwise exit on its own.
  process.channel?.unref();
}
