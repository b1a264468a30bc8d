/**
 * WebSocket upgrades go through the same app, routes, auth and `when` steps as every request, with
 * a response written on the socket: a refusal is plain HTTP in the route's format, and the endpoint
 * that accepts takes the socket over (`EndpointIo.upgrade`).
 */
import { ServerResponse, type IncomingMessage, type RequestListener } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { EndpointIo } from "../contract/endpoint.js";

const upgrades = new WeakMap<IncomingMessage, NonNullable<EndpointIo["upgrade"]>>();
export const upgradeOf = (req: IncomingMessage) => upgrades.get(req);

/** `closing` aborts when a drain's deadline passes: every session still open is told to go away. */
export function acceptUpgrade(handle: RequestListener, req: IncomingMessage, socket: Duplex, head: Buffer, closing: AbortSignal): void {
  socket.on("error", () => socket.destroy()); // node took its own error listener off: a reset must not crash the process
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once("finish", () => socket.end()); // a refusal ends the connection: no parser reads this socket any more
  if (/^websocket$/i.test(req.headers.upgrade ?? "")) upgrades.set(req, { socket, head, closing }); // others (h2c) get plain HTTP/1.1, as without this listener
  void handle(req, res);
}
