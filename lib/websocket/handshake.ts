/**
 * The client's side of a WebSocket handshake, read before the gateway opens the upstream: a
 * request the gateway could not accept is refused as plain HTTP in the route's format, before any
 * backend is tried, and what the client offered (subprotocols, compression) is offered upstream.
 */
import type { IncomingMessage } from "node:http";
import { GatewayError } from "../../core/index.js";

/** RFC 6455 §4.1: 16 random bytes, base64. */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** Why the gateway cannot accept this upgrade (undefined when it can). */
export function handshakeRefusal(req: IncomingMessage): GatewayError | undefined {
  const refuse = (message: string, code: string, status = 400) => new GatewayError({ status, type: "invalid_request", code, message });
  if (req.method !== "GET") return refuse("a WebSocket upgrade must be a GET", "websocket_method", 405);
  if (req.headers.upgrade?.toLowerCase() !== "websocket") return refuse("only WebSocket upgrades are accepted (Upgrade: websocket)", "unsupported_upgrade");
  if (req.headers["sec-websocket-version"] !== "13") return refuse("the WebSocket version must be 13", "websocket_version");
  if (!WEBSOCKET_KEY.test(req.headers["sec-websocket-key"] ?? "")) return refuse("the Sec-WebSocket-Key header is missing or malformed", "websocket_key");
  return undefined;
}

/** The subprotocols the client offered, in its order of preference. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers["sec-websocket-protocol"];
  return header === undefined ? [] : header.split(",").map((p) => p.trim()).filter((p) => p !== "");
}

/**
 * Whether the client offered permessage-deflate, the one extension the gateway can carry: each hop
 * compresses on its own, and it is accepted from the client only when the upstream accepted it too.
 * Extensions the gateway does not implement are offered to neither side.
 */
export function offersDeflate(req: IncomingMessage): boolean {
  return /(^|,)\s*permessage-deflate\s*(;|,|$)/i.test(req.headers["sec-websocket-extensions"] ?? "");
}

/** The handshake headers each hop sets for itself (the upstream client sets its own). */
export const HANDSHAKE_HEADERS: ReadonlySet<string> = new Set(["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"]);
