/**
 * Where a WebSocket to a backend goes and which headers it carries (the backend's key, never the
 * client's), told by the providers that can take one (provider-http, provider-openai,
 * provider-gemini) to the endpoints that open them (http-proxy, realtime).
 *
 * Kept beside the provider (a WeakMap) rather than on the Provider contract: only providers whose
 * upstream takes WebSockets register, and the core knows nothing of sockets.
 */
import type { Provider } from "../../core/index.js";

export interface SocketCall {
  /** The path and query below the backend's base URL (`/realtime?model=gpt-realtime`). */
  path: string;
  /** Headers for the upstream handshake (end-to-end client headers, for proxies); the provider adds its own. */
  headers: Record<string, string | string[]>;
  requestId: string;
  /** The backend's model, for providers that place it themselves (Azure names its deployment in the query). */
  model?: string;
}

export interface SocketTarget {
  /** `ws:` or `wss:` (the base URL's `http:` or `https:`). */
  url: string;
  headers: Record<string, string | string[]>;
}

/**
 * Opens a socket to the backend: calls `connect` with the target, once per key tried. A provider
 * with a key ring hands each try its next key, and a refusal (401, 429) rests that key as for
 * HTTP calls.
 */
export type SocketOpener = <T>(call: SocketCall, connect: (target: SocketTarget) => Promise<T>) => Promise<T>;

const openers = new WeakMap<Provider, SocketOpener>();

/** Called by a provider that can take WebSockets, once, when it is built. */
export function offerSockets(provider: Provider, opener: SocketOpener): void {
  openers.set(provider, opener);
}

/** How to open a WebSocket to the backend behind `provider`; undefined when it takes none. */
export function socketOpenerOf(provider: Provider): SocketOpener | undefined {
  return openers.get(provider);
}

/** `baseUrl` (http or https, with an optional base path) joined with `path`, as a ws/wss URL. */
export function socketUrl(baseUrl: string, path: string): string {
  const base = new URL(baseUrl);
  const scheme = base.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${base.host}${base.pathname.replace(/\/+$/, "")}${path}`;
}
