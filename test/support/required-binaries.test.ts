import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { onPath, skipWithout } from "./required-binaries.js";

const redis = { what: "redis-server", debianPackage: "redis-server" };

describe("tests that need a server binary", () => {
  it("are skipped without it, after one line naming the Debian package", () => {
    const lines: string[] = [];
    expect(skipWithout({ ...redis, found: false }, {}, (l) => lines.push(l))).toBe(true);
    expect(lines).toEqual([expect.stringMatching(/redis-server.*install the Debian package redis-server/)]);
  });

  it.each(["1", "true"])("are never skipped when CI=%s: a CI without the server must fail", (ci) => {
    const lines: string[] = [];
    expect(skipWithout({ ...redis, found: false }, { CI: ci }, (l) => lines.push(l))).toBe(false);
    expect(lines).toEqual([]);
  });

  it("run, silently, when the binary is there", () => {
    const lines: string[] = [];
    expect(skipWithout({ ...redis, found: true }, {}, (l) => lines.push(l))).toBe(false);
    expect(lines).toEqual([]);
  });

  it("find a binary only as an executable on PATH", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-path-"));
    await writeFile(join(dir, "tool"), "#!/bin/sh\n", { mode: 0o755 });
    await writeFile(join(dir, "plain"), "", { mode: 0o644 });
    expect(onPath("tool", dir)).toBe(true);
    expect(onPath("plain", dir)).toBe(false);
    expect(onPath("tool", "")).toBe(false);
  });
});
