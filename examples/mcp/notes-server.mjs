// A small MCP server for the MCP example (mcp.pipeline.json), built with the official SDK: notes
// kept in memory, as tools, a resource per note and a prompt. On stdio by default (the gateway
// starts it); `node examples/mcp/notes-server.mjs --http 8931` serves it over Streamable HTTP
// at http://127.0.0.1:8931/mcp instead, to stand in for the remote server.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const notes = new Map([["welcome", "Notes kept by the example MCP server."]]);

function notesServer() {
  const server = new McpServer({ name: "notes", version: "1.0.0" });
  server.registerTool("add_note", { description: "Keeps a note under a name", inputSchema: { name: z.string(), text: z.string() } }, async ({ name, text }) => {
    notes.set(name, text);
    return { content: [{ type: "text", text: `kept ${name}` }] };
  });
  server.registerTool("list_notes", { description: "Names of the notes kept", inputSchema: {} }, async () => ({
    content: [{ type: "text", text: [...notes.keys()].join("\n") }],
  }));
  server.registerResource("note", new ResourceTemplate("notes://{name}", { list: async () => ({ resources: [...notes.keys()].map((name) => ({ uri: `notes://${name}`, name })) }) }), { mimeType: "text/plain" }, async (uri, { name }) => ({
    contents: [{ uri: uri.href, text: notes.get(String(name)) ?? "" }],
  }));
  server.registerPrompt("summarize_notes", { description: "Asks to summarize every note", argsSchema: {} }, () => ({
    messages: [{ role: "user", content: { type: "text", text: `Summarize these notes:\n${[...notes].map(([n, t]) => `- ${n}: ${t}`).join("\n")}` } }],
  }));
  return server;
}

const httpAt = process.argv.indexOf("--http");
if (httpAt < 0) {
  await notesServer().connect(new StdioServerTransport());
} else {
  const transports = new Map();
  const http = createServer(async (req, res) => {
    const id = req.headers["mcp-session-id"];
    let transport = typeof id === "string" ? transports.get(id) : undefined;
    if (!transport) {
      if (typeof id === "string") return void res.writeHead(404).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
      transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => transports.set(sid, transport) });
      transport.onclose = () => transports.delete(transport.sessionId);
      await notesServer().connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  const port = Number(process.argv[httpAt + 1] ?? 8931);
  http.listen(port, "127.0.0.1", () => process.stdout.write(`notes MCP server on http://127.0.0.1:${port}/mcp\n`));
}
