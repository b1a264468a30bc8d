/**
 * The HTTP listener a gateway serves on, with the limits a slow or greedy client meets (issue 11,
 * item 7): request headers and the whole request (body included) within their timeouts (node
 * answers 408 and closes), and at most so many open connections per listener and per client
 * address, past which a new connection is answered 503 too_many_connections and closed. Socket
 * policy, given by whoever assembles the gateway, like the state store: the core's shell routes.
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { Socket } from "node:net";

export interface ListenerLimits {
  /** Time for a client to send its request headers (node's headersTimeout). */
  headersTimeoutMs: number;
  /** Time for a client to send its whole request, body included (node's requestTimeout). */
  requestTimeoutMs: number;
  /** Open connections on the listener, all clients together. */
  maxConnections: number;
  /** Open connections from one client address. */
  maxConnectionsPerClient: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, maxConnections: 10_000, maxConnectionsPerClient: 512 };

export function listenerFactory(limits: Partial<ListenerLimits> = {}): (handler: RequestListener) => Server {
  const { headersTimeoutMs, requestTimeoutMs, maxConnections, maxConnectionsPerClient } = { ...DEFAULT_LISTENER_LIMITS, ...limits };
  return (handler) => {
    // Connections refused below still get an HTTP parser (node attaches it to every socket): whatever they send is dropped.
    const refused = new WeakSet<Socket>();
    const server = createServer(
      // Node checks the timeouts on an interval (30 s by default): a tenth of the shorter one keeps a 408 close to its limit.
      { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.max(50, Math.min(headersTimeoutMs, requestTimeoutMs) / 10) },
      (req, res) => (refused.has(req.socket) ? void res.destroy() : handler(req, res)),
    );
    const perClient = new Map<string, number>();
    let open = 0;
    server.prependListener("connection", (socket: Socket) => {
      const client = socket.remoteAddress ?? "unknown";
      const mine = perClient.get(client) ?? 0;
      if (open >= maxConnections || mine >= maxConnectionsPerClient) {
        refused.add(socket);
        const whose = open >= maxConnections ? "this listener" : "your address";
        return void socket.end(refusal(`too many open connections to ${whose}; close some or reuse keep-alive connections, then retry`));
      }
      open++;
      perClient.set(client, mine + 1);
      socket.once("close", () => {
        open--;
        const left = (perClient.get(client) ?? 1) - 1;
        if (left > 0) perClient.set(client, left);
        else perClient.delete(client);
      });
    });
    return server;
  };
}

function refusal(message: string): string {
  const body = JSON.stringify({ error: { message, type: "unavailable", code: "too_many_connections" } });
  return `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n${body}`;
}
