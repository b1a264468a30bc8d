/**
 * A local WebSocket backend for tests: answers every upgrade on 127.0.0.1:0, keeps what it saw
 * (handshake headers, sessions), and runs `onSession` for each socket (echo by default).
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer, type ServerOptions } from "ws";

export interface WsUpstream {
  /** http://127.0.0.1:port, as a backend's baseUrl. */
  url: string;
  /** Handshake headers of every session, in order. */
  handshakes: IncomingHttpHeaders[];
  /** Every session's socket, in order. */
  sockets: WebSocket[];
  server: Server;
  close(): Promise<void>;
}

/** Sends every message back as it came (text as text, binary as binary). */
export function echo(socket: WebSocket): void {
  socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
}

export async function startWsUpstream(onSession: (socket: WebSocket, headers: IncomingHttpHeaders) => void = echo, options: ServerOptions = {}): Promise<WsUpstream> {
  const server = createServer((_req, res) => res.writeHead(426).end("upgrade required"));
  const wss = new WebSocketServer({ server, ...options });
  const handshakes: IncomingHttpHeaders[] = [];
  const sockets: WebSocket[] = [];
  wss.on("connection", (socket, req) => {
    handshakes.push(req.headers);
    sockets.push(socket);
    socket.on("error", () => undefined);
    onSession(socket, req.headers);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, handshakes, sockets, server,
    close: async () => {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Opens a client socket and resolves once open (rejects with the HTTP status of a refusal). */
export function openClient(url: string, protocols: string[] = [], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, options);
    socket.once("open", () => resolve(socket));
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk));
      res.on("end", () => reject(Object.assign(new Error(`refused with ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body })));
    });
    socket.once("error", reject);
  });
}

/** Resolves with the close code and reason once `socket` closed. */
export function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.reject(new Error("already closed: listen before it closes"));
  return new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}
