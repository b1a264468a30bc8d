// A WebSocket echo backend for the bench's websocket scenario: every message goes back as it came.
// Usage: node bench/ws-echo.mjs   prints "listening http://127.0.0.1:PORT" when ready.
import http from "node:http";
import { WebSocketServer } from "ws";

const server = http.createServer((_req, res) => res.writeHead(426).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on("error", () => undefined);
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`));
process.on("SIGTERM", () => process.exit(0));
