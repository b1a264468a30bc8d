/**
 * Waiting in tests for something that follows by itself (a flush, a probe, a socket closing). The
 * budgets are generous because a loaded 2-core machine can stall a process for seconds; a passing
 * test never waits them out, only a failing one does.
 */

/** Default budget for a wait on something that should happen soon. */
export const WAIT_MS = 10_000;

export interface WaitUntilOptions {
  timeoutMs?: number;
  /** How often to look again. */
  intervalMs?: number;
}

/**
 * Resolves once `done()` holds; looks again every `intervalMs`. For states no event announces
 * (socket counts, store health). Fails after `timeoutMs` with `describe()`, which says what was seen.
 */
export async function waitUntil(done: () => boolean | Promise<boolean>, describe: () => string, options: WaitUntilOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 10));
  }
}

/** `promise`, or a failure naming `what` when it has not settled after `timeoutMs`. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
