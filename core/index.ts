/**
 * The core's public surface: the contract plugins are written against, and nothing else. Plugins
 * import from here (and from lib/); no other file of core is theirs to import.
 */
export * from "./contract/errors.js";
export * from "./contract/json-object.js";
export * from "./contract/glob.js";
export type * from "./contract/ir.js";
export type * from "./contract/format.js";
export type * from "./contract/provider.js";
export type * from "./contract/exchange.js";
export type * from "./contract/record.js";
export * from "./contract/hooks.js";
export type * from "./contract/translation.js";
export * from "./contract/plugin.js";
export * from "./contract/store.js";
export * from "./contract/endpoint.js";
export * from "./contract/request-end.js";
export { redactSecrets, type Logger } from "./contract/log.js";
export type { Store as StoreSpec } from "./contract/generated/pipeline.js";
export * from "./engine/read-body.js";
export { newExchange, type ExchangeStart } from "./engine/new-exchange.js";
