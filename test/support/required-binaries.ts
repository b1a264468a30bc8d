/**
 * Tests that start a real Redis or PostgreSQL need their Debian packages. On a developer's machine
 * without them those tests are skipped, after one line naming the package to install; under CI
 * (the `CI` variable set) they are never skipped: a CI without the server must fail, not pass.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Whether an executable named `name` is on PATH. */
export function onPath(name: string, path = process.env.PATH ?? ""): boolean {
  return path.split(delimiter).some((dir) => {
    if (dir === "") return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface Requirement {
  /** What the tests start, as a reader knows it: "redis-server", "PostgreSQL (initdb, pg_ctl)". */
  what: string;
  found: boolean;
  debianPackage: string;
}

/**
 * True when the tests needing `requirement` should be skipped here, after saying once what to
 * install; false when it is found, or under CI.
 */
export function skipWithout(requirement: Requirement, env: Record<string, string | undefined> = process.env, say: (line: string) => void = console.warn): boolean {
  if (requirement.found || (env.CI !== undefined && env.CI !== "" && env.CI !== "false")) return false;
  say(`skipping the tests that need ${requirement.what}: not found; install the Debian package ${requirement.debianPackage} (apt-get install ${requirement.debianPackage})`);
  return true;
}

/** A clear error for a server that could not be started because its binary is missing (the CI case). */
export function missingBinaryError(requirement: Omit<Requirement, "found">): Error {
  return new Error(`${requirement.what} not found: install the Debian package ${requirement.debianPackage} (apt-get install ${requirement.debianPackage})`);
}
