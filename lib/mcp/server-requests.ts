/**
 * Requests an MCP server sends its client — sampling, elicitation, roots/list, ping — go on to the
 * gateway client whose session they belong to. The upstream's SDK Client hands every request it
 * has no handler of its own for to `fallbackRequestHandler`: they are taken there as they came
 * (the gateway's client validates them, as it would from the server itself) and handed to the
 * session's peer, whose answer, or error, goes back to the server under the server's own id.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { CancelledNotificationSchema, McpError, type ClientCapabilities, type RequestId, type Result } from "@modelcontextprotocol/sdk/types.js";
import { JSON_RPC } from "./json-rpc-errors.js";
import type { SessionPeer, UpstreamRequest, UpstreamRequestContext } from "./upstream.js";

/** The server requests the gateway passes on, and the client capability each needs (ping needs none). */
export const FORWARDED_REQUESTS: ReadonlyMap<string, keyof ClientCapabilities | undefined> = new Map([
  ["sampling/createMessage", "sampling"],
  ["elicitation/create", "elicitation"],
  ["roots/list", "roots"],
  ["ping", undefined],
]);

/** What a server shared by every session is told its client can do: all that the gateway passes on; a session whose client lacks it answers -32601. */
export const SHARED_CLIENT_CAPABILITIES: ClientCapabilities = { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } };

/** What an upstream session of one gateway session declares: what its client declared, of what the gateway passes on. */
export function mirroredCapabilities(client: ClientCapabilities): ClientCapabilities {
  const mirrored: ClientCapabilities = {};
  for (const capability of FORWARDED_REQUESTS.values()) if (capability !== undefined && client[capability] !== undefined) Object.assign(mirrored, { [capability]: client[capability] });
  return mirrored;
}

/** Routes `client`'s server requests through `route`; every other method gets -32601, as from a client without a handler for it. */
export function takeServerRequests(client: Client, route: (request: UpstreamRequest, context: UpstreamRequestContext) => Promise<Result>): void {
  // The SDK answers pings itself; the gateway lets the client they are meant for answer them.
  client.removeRequestHandler("ping");
  // The server's cancellations, kept here: the SDK ignores one for request id 0 (it tests the id for truthiness).
  const cancels = new Map<RequestId, AbortController>();
  client.setNotificationHandler(CancelledNotificationSchema, (n) => {
    if (n.params.requestId !== undefined) cancels.get(n.params.requestId)?.abort(n.params.reason ?? "cancelled by the server");
  });
  client.fallbackRequestHandler = async (request, extra) => {
    if (!FORWARDED_REQUESTS.has(request.method)) throw new McpError(JSON_RPC.methodNotFound, `Method not found: ${request.method}`);
    const cancel = new AbortController();
    cancels.set(request.id, cancel);
    try {
      return await route({ method: request.method, ...(request.params === undefined ? {} : { params: request.params as Record<string, unknown> }) }, {
        signal: AbortSignal.any([extra.signal, cancel.signal]),
        sendNotification: (n) => extra.sendNotification(n as Parameters<typeof extra.sendNotification>[0]),
      });
    } finally {
      cancels.delete(request.id);
    }
  };
}

/**
 * The session a request from a server shared by every session belongs to. The request does not
 * say (stdio carries no more than the message): it is the session with calls running on the
 * server when only one has; or, with none running, the only session using the server. Otherwise
 * the reason it cannot be told.
 */
export function attributeRequest(peers: readonly SessionPeer[]): SessionPeer | string {
  const running = peers.filter((p) => p.callsRunning() > 0);
  if (running.length === 1) return running[0]!;
  if (running.length > 1) return `${running.length} client sessions have calls running on this server, and the request does not say which one it is for`;
  if (peers.length === 1) return peers[0]!;
  return peers.length === 0 ? "no client session is using this server" : `no call is running on this server and ${peers.length} client sessions use it`;
}
