/**
 * The header rules of a reverse proxy (RFC 9110 §7.6.1). Hop-by-hop headers describe one
 * connection and never cross the proxy in either direction, nor does any header its sender named
 * in `Connection`. On the way up the gateway says who the client was (x-forwarded-*).
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection", // not standard, but old clients still send it
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Not hop-by-hop, but already answered here: Node sent the `100 Continue` itself, and the
 * upstream client cannot carry it (undici refuses `expect`).
 */
const ANSWERED_HERE = new Set(["expect"]);

export type ForwardHeaders = Record<string, string | string[]>;

/** Names a `Connection` header lists: those headers are hop-by-hop for this message only. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // The common values name no header beyond the hop-by-hop ones: no set to build.
  if (value === undefined || value === "keep-alive" || value === "close") return undefined;
  const tokens = new Set<string>();
  for (const part of Array.isArray(value) ? value : [value]) {
    for (const token of part.split(",")) {
      const name = token.trim().toLowerCase();
      if (name) tokens.add(name);
    }
  }
  return tokens;
}

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, skip: ReadonlySet<string> | undefined): ForwardHeaders {
  const named = connectionTokens(headers.connection);
  const out: ForwardHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name) || skip?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The client's headers as they go upstream: end-to-end ones only (`host` kept: the provider
 * decides whether it passes on), without the headers auth read the gateway's key from
 * (`credentials`), x-forwarded-for appended to, x-forwarded-proto and x-forwarded-host set to
 * what this hop saw.
 */
export function headersUpstream(req: IncomingMessage, credentials: ReadonlySet<string>): ForwardHeaders {
  const skip = credentials.size === 0 ? ANSWERED_HERE : new Set([...ANSWERED_HERE, ...credentials]);
  const out = endToEnd(req.headers, skip);
  const client = req.socket.remoteAddress;
  if (client !== undefined) {
    const prior = req.headers["x-forwarded-for"];
    out["x-forwarded-for"] = prior ? `${prior}, ${client}` : client;
  }
  out["x-forwarded-proto"] = (req.socket as Partial<TLSSocket>).encrypted ? "https" : "http";
  if (req.headers.host !== undefined) out["x-forwarded-host"] = req.headers.host;
  return out;
}

/** The upstream's response headers as they go to the client: end-to-end ones only. */
export function headersDownstream(headers: Record<string, string | string[] | undefined>): ForwardHeaders {
  return endToEnd(headers, undefined);
}
