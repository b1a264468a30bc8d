/**
 * Which request headers an auth step reads the gateway's own key from, told by that step to the
 * endpoints that forward a client's headers (http-proxy): the gateway's key is for the gateway,
 * and an upstream must never see it, whatever the route's `dropHeaders` say.
 *
 * Kept beside the exchange (a WeakMap) rather than on it: the core knows nothing of credentials,
 * and the entry goes with the exchange.
 */
import type { Exchange } from "../../core/index.js";

const credentialHeaders = new WeakMap<Exchange, ReadonlySet<string>>();

/** Called by an auth step that reads keys from `names` (lower-case), whether or not one carried a key. */
export function markCredentialHeaders(exchange: Exchange, names: readonly string[]): void {
  const prior = credentialHeaders.get(exchange);
  credentialHeaders.set(exchange, prior === undefined ? new Set(names) : new Set([...prior, ...names]));
}

/** The headers to keep from an upstream: every one an auth step of this exchange read a key from. */
export function credentialHeadersOf(exchange: Exchange): ReadonlySet<string> {
  return credentialHeaders.get(exchange) ?? NONE;
}

const NONE: ReadonlySet<string> = new Set();
