// The floor: the least a proxy can do. node:http in, one keep-alive undici Pool out, bodies piped
// both ways, nothing parsed. Every gateway figure in the bench is read as a ratio to this one.
// Usage: node bench/bare-proxy.mjs --upstream http://127.0.0.1:PORT [--port N]
import http from "node:http";
import { pipeline } from "node:stream";
import { Pool } from "undici";

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const pool = new Pool(arg("--upstream"), { connections: null, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
// Hop-by-hop headers belong to one connection: undici rejects some of them outright.
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "expect", "proxy-connection", "te", "trailer"]);
const strip = (headers) => { for (const k of Object.keys(headers)) if (HOP.has(k)) delete headers[k]; return headers; };
const noop = () => {};

const server = http.createServer((req, res) => {
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  pool.request({ method: req.method, path: req.url, headers: strip(req.headers), body: hasBody ? req : null }).then(
    ({ statusCode, headers, body }) => {
      res.writeHead(statusCode, strip(headers));
      pipeline(body, res, noop); // a client that goes away destroys the upstream body too
    },
    () => { if (!res.headersSent) res.writeHead(502); res.end(); },
  );
});
server.keepAliveTimeout = 30_000;
server.requestTimeout = 0;
server.listen(Number(arg("--port", 0)), "127.0.0.1", 4096, () => process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`));
process.on("SIGTERM", () => process.exit(0));
