import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { CLI } from "../support/cli-process.js";

// `bin` points at dist/cli/main.js: a global install or a second clone runs it straight from the
// file system, so the build itself must leave it executable (npx would otherwise chmod it on first use).
describe("the built CLI", () => {
  it("is executable by its owner, group and others after npm run build", async () => {
    const { mode } = await stat(CLI);
    expect(mode & 0o111).toBe(0o111);
  });

  it.skipIf(process.platform === "win32")("runs straight from its path through its shebang", async () => {
    const { stdout } = await promisify(execFile)(CLI, ["help"]);
    expect(stdout).toMatch(/serve/);
  });
});
