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
export { loadPricing, createPriceTable, costOf } from "./pricing.js";
export type { ModelPrice, PricingFile, PriceTable } from "./pricing.js";
export * from "./upstream-errors.js";
export { UpstreamPool, parseBaseUrl } from "./upstream-pool.js";
export type { UpstreamPoolOptions, UpstreamRequest } from "./upstream-pool.js";
