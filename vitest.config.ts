import { configDefaults, defineConfig } from "vitest/config";

// The bench smoke run loads the machine on purpose (autocannon against real servers). It runs in a
// project of its own, after every other test file has finished, so that its load never starves
// the timeouts and waits of the tests around it.
const LOAD_TESTS = ["test/bench/smoke.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: { name: "tests", include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, ...LOAD_TESTS], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: "load", include: LOAD_TESTS, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
