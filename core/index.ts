/**
 * The core's public surface: the contract plugins are written against, and nothing else. Plugins
 * import from here (and from lib/); no other file of core is theirs to import.
 */
export * from "./contract/errors.js";
export { isObject } from "./contract/json-object.js";
export type { WireObject } from "./contract/json-object.js";
export { compileGlob } from "./contract/glob.js";
export type * from "./contract/ir.js";
export type * from "./contract/format.js";
export type * from "./contract/provider.js";
export type * from "./contract/exchange.js";
export type * from "./contract/record.js";
export { PipelineHooks } from "./contract/hooks.js";
export type { Translation, TranslatedStream, StreamPolicy, HookName } from "./contract/hooks.js";
export { definePlugin } from "./contract/plugin.js";
export type * from "./contract/plugin.js";
export { redactSecrets } from "./contract/log.js";
export type { Logger } from "./contract/log.js";
export type { Store as StoreSpec } from "./contract/generated/pipeline.js";
export { USAGE_GROUPS } from "./contract/usage.js";
export type { UsageQuery, UsageReport, UsageRow, UsageGroupBy } from "./contract/usage.js";
export { StoreUnavailableError } from "./contract/store.js";
export type { StateStore, StoreHealth, StoreStatus, UnavailablePolicy, WindowHit, Reservation, Lease } from "./contract/store.js";
export { SseParser, sseFrame, SSE_KEEPALIVE } from "./engine/sse.js";

export { GENERATE_ENDPOINT } from "./contract/endpoint.js";
export type { EndpointIo, EndpointResult, PipelineView, ModelIndex, AttemptDriver, AttemptSend, AttemptTurn, PreparedRequest } from "./contract/endpoint.js";
export { readBody } from "./engine/read-body.js";
export type { ReadBodyOptions } from "./engine/read-body.js";
