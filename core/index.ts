/** The core's public surface: plugins import from here and nowhere else in core. */
export * from "./errors.js";
export type * from "./ir.js";
export type * from "./format.js";
export type * from "./provider.js";
export type * from "./exchange.js";
export type * from "./record.js";
export { PipelineHooks } from "./hooks.js";
export type { Translation, TranslatedStream, StreamPolicy, HookName } from "./hooks.js";
export { definePlugin } from "./plugin.js";
export type * from "./plugin.js";
export { SseParser, sseFrame, SSE_KEEPALIVE } from "./sse.js";
export type { SseEvent } from "./sse.js";
export type { Logger } from "./log.js";
export { createMemoryStore, openStateStore, StoreOutagePolicy, StoreUnavailableError } from "./store.js";
export type { StateStore, StoreHealth, StoreStatus, StoreSpec, UnavailablePolicy, WindowHit, Reservation, Lease, MemoryStoreOptions } from "./store.js";
export { createRedisStore } from "./store-redis.js";
export type { RedisStoreOptions, RedisStateStore } from "./store-redis.js";
