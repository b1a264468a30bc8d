/**
 * The shape of the tree, enforced: who may import whom (DESIGN.md "Layout"), no import cycles,
 * and a core small enough to read. Reads the source files' import specifiers; nothing is run
 * except the last test, which imports the built core in a fresh process.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const SOURCE_FOLDERS = ["core", "load", "lib", "cli", "testkit", "plugins"];

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(relative(root, path));
    }
  };
  walk(join(root, folder));
  return out;
}

const files = SOURCE_FOLDERS.flatMap(sourceFiles);

/** Every relative module a file imports (static, dynamic and re-exports; type-only ones too), as repo paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)"(\.{1,2}\/[^"]+)"/gm)].map((m) => m[1]!);
  return specifiers.map((s) => relative(root, resolve(dirname(join(root, file)), s)).replace(/\.js$/, ".ts"));
}

const area = (path: string): string => {
  const [top, second] = path.split("/");
  return top === "core" && (second === "index.ts" || second === "contract") ? (second === "index.ts" ? "core/index" : "core/contract") : top!;
};

/** What each area may import, besides its own files (plugins: their own folder only). */
const ALLOWED: Record<string, (target: string, file: string) => boolean> = {
  // core imports nothing outside core (its contract, engine and serve import each other).
  "core/index": (t) => t.startsWith("core/"),
  "core/contract": (t) => t.startsWith("core/contract/"),
  core: (t) => t.startsWith("core/"),
  // lib: shared helpers that know only core's public surface (and each other, and schema files).
  lib: (t) => t === "core/index.ts" || t.startsWith("lib/") || t.startsWith("schemas/"),
  // load: the contract, lib and the schemas; never the engine.
  load: (t) => t.startsWith("core/contract/") || t === "core/index.ts" || t.startsWith("lib/") || t.startsWith("load/") || t.startsWith("schemas/"),
  // plugins: core's public surface, lib, and their own folder only.
  plugins: (t, f) => t === "core/index.ts" || t.startsWith("lib/") || t.startsWith(`${f.split("/").slice(0, 2).join("/")}/`),
  // cli and testkit assemble the parts: anything but a plugin.
  cli: (t) => !t.startsWith("plugins/"),
  testkit: (t) => !t.startsWith("plugins/"),
};

describe("import rules", () => {
  it.each(files)("%s imports only what its folder may", (file) => {
    const allowed = ALLOWED[area(file)]!;
    const broken = importsOf(file).filter((target) => !allowed(target, file));
    expect(broken, `${file} imports ${broken.join(", ")}`).toEqual([]);
  });

  it("has no import cycles", () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.endsWith(".ts"))]));
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  // DESIGN.md's ~2,300, plus the seams new kinds of traffic needed (each counted when it came in):
  // the swappable route table and probes (hot reload, 45), WebSocket upgrades (35), explain and
  // stream continuation (34), IR documents, audio and logprobs (28), embeddings (20), per-attempt
  // upstream headers for traces (5), the answer's finish reason for records, metrics and traces
  // (12: FormatTranslator.finishReasonOf, StreamObserver/StreamDecoder/TranslatedStream.finishReason,
  // Exchange and RequestRecord.finishReason, set in deliver), an admin listener (11: GatewayServer.listen's
  // ListenerRoutes, RouteInfo.operator and EndpointSpec.operator, for serve --admin-port), the drain
  // signal endpoints observe to end long-lived streams (EndpointIo.draining, 4), each attempt's own usage for pricing
  // continued streams per backend (3), the reply kept for a record step's answer digest (3), the
  // response cache's verdict and saved cost on the exchange and the record (6: Exchange.cache,
  // RequestRecord.cache/savedCostUsd), the request's end as a plain EventEmitter with its AbortSignal made
  // on first use, an exchange class and a lazily parsed query, koa without its per-request response
  // handling (83: RequestEnd, Exchange.end, UpstreamCall/ForwardCall.end; issue 12's largest proxy cost), the events
  // a passed-through stream's observer needs (5: StreamObserver/RelayTarget.eventsWanted), koa's context let go
  // while a request runs and a larger listen backlog (4), the drain ending connections that never sent a request
  // (5: GatewayServer.silent, set in listen(), ended in drain()).
  // A line more is paid for by a line less elsewhere in core.
  it("keeps core small: at most 2,600 lines (generated types excluded), no file over 300", () => {
    const core = files.filter((f) => f.startsWith("core/") && !f.includes("/generated/"));
    const lines = new Map(core.map((f) => [f, readFileSync(join(root, f), "utf8").split("\n").length - 1]));
    const total = [...lines.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(2600);
    expect([...lines].filter(([, n]) => n > 300)).toEqual([]);
  });

  it("loads neither ioredis nor pg when the core is imported", () => {
    // A fresh process: vitest's own module graph would hide what the core pulls in by itself.
    const script = `
      const { createRequire } = await import("node:module");
      await import(${JSON.stringify(join(root, "dist/core/index.js"))});
      const require = createRequire(import.meta.url);
      const loaded = Object.keys(require.cache);
      const heavy = [...loaded].filter((p) => /node_modules\\/(ioredis|pg)\\//.test(p));
      process.stdout.write(JSON.stringify(heavy));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([]);
  });
});
