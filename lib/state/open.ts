/** Opening the store a pipeline's `store` property names, for whoever assembles a gateway (cli/assemble.ts). */
import type { Logger, StateStore, StoreSpec } from "../../core/index.js";
import { createMemoryStore } from "./memory.js";

/**
 * The store a pipeline's plugins share, from its `store` property (memory when absent). A Redis
 * store waits up to `connectTimeoutMs` (default 2000) for its first connection, then starts
 * anyway, unavailable, and keeps reconnecting: plugins follow `onUnavailable` meanwhile.
 */
export async function openStateStore(spec: StoreSpec | undefined, log: Logger): Promise<StateStore> {
  if (!spec || spec.kind === "memory") return createMemoryStore({ maxValueChars: spec?.maxValueChars });
  // Imported only when a pipeline asks for Redis: serving from memory never loads ioredis.
  const { createRedisStore } = await import("./redis.js");
  const store = createRedisStore({ url: spec.url, keyPrefix: spec.keyPrefix, onUnavailable: spec.onUnavailable, commandTimeoutMs: spec.commandTimeoutMs, log });
  if ((await store.ready(spec.connectTimeoutMs ?? 2000)) !== "ok") log.warn({ policy: store.onUnavailable }, "state store: redis not reachable at start; serving by the onUnavailable policy until it is");
  return store;
}
