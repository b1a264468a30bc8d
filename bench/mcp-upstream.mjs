// An MCP server over Streamable HTTP for the bench's MCP scenario (official SDK, stateful
// sessions): one `echo` tool. Usage: node bench/mcp-upstream.mjs [--port N]; prints
// "listening http://127.0.0.1:PORT/mcp" when ready.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const transports = new Map();

function newServer() {
  const server = new McpServer({ name: "bench-mcp", version: "1.0.0" });
  server.registerTool("echo", { description: "says the text back", inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: "text", text }] }));
  return server;
}

const http = createServer(async (req, res) => {
  const id = req.headers["mcp-session-id"];
  let transport = typeof id === "string" ? transports.get(id) : undefined;
  if (!transport) {
    if (typeof id === "string") {
      res.writeHead(404, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
      return;
    }
    transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => transports.set(sid, transport) });
    transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
    await newServer().connect(transport);
  }
  await transport.handleRequest(req, res);
});
http.listen(port, "127.0.0.1", () => process.stdout.write(`listening http://127.0.0.1:${http.address().port}/mcp\n`));
