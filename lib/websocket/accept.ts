/**
 * Accepting the client's upgrade, once the upstream accepted the gateway's: the 101 names the
 * subprotocol the upstream chose and carries permessage-deflate only when both hops use it, plus
 * the exchange's own headers (request id, rate limit and budget headers) as any reply would.
 */
import WebSocket, { WebSocketServer } from "ws";
import { GatewayError, type EndpointIo, type Exchange } from "../../core/index.js";

/** Headers the 101 sets itself, or that would undo it (a draining server's `connection: close`). */
const HANDSHAKE_OWN = /^(connection|upgrade|keep-alive|transfer-encoding|content-length|sec-websocket-.*)$/i;

export interface AcceptOptions {
  /** The subprotocol the upstream chose, if any. */
  protocol: string | undefined;
  deflate: boolean;
  maxPayload: number;
}

/** Takes the client's socket over from the core and completes its handshake. */
export function acceptClient(x: Exchange, io: EndpointIo, options: AcceptOptions): Promise<WebSocket> {
  const upgrade = io.upgrade;
  if (upgrade === undefined) return Promise.reject(new Error("acceptClient: the request is no upgrade"));
  io.applyExchangeHeaders();
  const extra = Object.entries(io.res.getHeaders()).flatMap(([name, value]) =>
    value === undefined || HANDSHAKE_OWN.test(name) ? [] : (Array.isArray(value) ? value : [String(value)]).map((v) => `${name}: ${v}`),
  );
  io.res.detachSocket(upgrade.socket as never);
  const server = new WebSocketServer({
    noServer: true, clientTracking: false, autoPong: false, maxPayload: options.maxPayload, perMessageDeflate: options.deflate,
    handleProtocols: () => options.protocol ?? false,
  });
  server.on("headers", (headers: string[]) => headers.push(...extra));
  return new Promise((resolve, reject) => {
    // The handshake was checked before the upstream was opened: this is a socket that went away meanwhile.
    server.once("wsClientError", (err: Error) => {
      upgrade.socket.destroy();
      reject(Object.assign(GatewayError.clientClosed(), { cause: err }));
    });
    // ws would destroy such a socket without calling back.
    if (!upgrade.socket.readable || !upgrade.socket.writable) return reject(GatewayError.clientClosed());
    server.handleUpgrade(io.req, upgrade.socket, upgrade.head, (client) => {
      x.headersSent = true;
      x.status = 101;
      x.ttfbMs = performance.now() - x.startedHr;
      resolve(client);
    });
  });
}
