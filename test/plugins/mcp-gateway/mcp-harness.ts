/**
 * A gateway with an mcp route in front of two demo MCP servers built with the official SDK: one
 * started by provider-mcp-stdio (`local`), one over Streamable HTTP (`remote`), and clients made
 * with the SDK's own Client.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { ClientCapabilities } from "@modelcontextprotocol/sdk/types.js";
import { keysFile, startGateway, type TestGateway } from "../../support/gateway.js";
// @ts-expect-error a plain ES module fixture, run by node as the stdio server is
import { startDemoHttpServer } from "../../fixtures/mcp/http-server.mjs";

export const STDIO_SERVER = resolve(import.meta.dirname, "../../fixtures/mcp/stdio-server.mjs");
export const KEY = "sk-test-mcp-alice";
export const OTHER_KEY = "sk-test-mcp-bob";

export interface DemoHttpServer {
  url: string;
  stats: { sessions: number; resumed: number };
  cutStreams(): void;
  holdStreams(): () => void;
  close(): Promise<void>;
}

export interface McpHarness {
  gateway: TestGateway;
  remote: DemoHttpServer;
  url: string;
  spawnLog: string;
  records: string;
  /** A client declaring `capabilities` (sampling, elicitation, roots…); its handlers are set on the client it resolves with. */
  connect(key?: string, options?: { headers?: Record<string, string>; capabilities?: ClientCapabilities }): Promise<Client>;
  spawnedPids(): Promise<number[]>;
  close(): Promise<void>;
}

export async function startMcpHarness(options: { gateway?: Record<string, unknown>; steps?: unknown[]; stdio?: Record<string, unknown>; backends?: Record<string, unknown> } = {}): Promise<McpHarness> {
  const remote: DemoHttpServer = await startDemoHttpServer("remote");
  const clients: Client[] = [];
  let gateway: TestGateway;
  try {
    gateway = await startGateway({
      "keys.json": await keysFile([{ key: KEY, id: "alice", tenant: "acme" }, { key: OTHER_KEY, id: "bob", tenant: "globex" }]),
      "mcp.pipeline.json": {
        id: "mcp",
        routes: ["POST", "GET", "DELETE"].map((method) => ({ method, path: "/mcp", format: "mcp", endpoint: "mcp" })),
        backends: {
          local: { use: "provider-mcp-stdio", config: { command: process.execPath, args: [STDIO_SERVER], env: { MCP_SPAWN_LOG: "spawns.log", MCP_LABEL: "local" }, cwd: ".", restartInitialDelayMs: 50, ...options.stdio } },
          remote: { use: "provider-mcp-http", config: { url: remote.url, reconnectInitialDelayMs: 50 } },
          ...options.backends,
        },
        steps: [
          { use: "auth-api-key", config: { keysFile: "keys.json", reloadIntervalMs: 0 } },
          ...(options.steps ?? []),
          { use: "mcp-gateway", config: options.gateway ?? {} },
          { use: "record-jsonl", config: { path: "records.jsonl", flushIntervalMs: 10 } },
        ],
      },
    });
  } catch (err) {
    await remote.close();
    throw err;
  }
  const url = `${gateway.url}/mcp`;
  const spawnLog = join(gateway.dir, "spawns.log");
  return {
    gateway, remote, url, spawnLog, records: join(gateway.dir, "records.jsonl"),
    async connect(key = KEY, extra = {}) {
      const client = new Client({ name: "test-client", version: "1.0.0" }, { capabilities: extra.capabilities ?? {} });
      const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}`, ...extra.headers } } });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async spawnedPids() {
      const text = await readFile(spawnLog, "utf8").catch(() => "");
      return text.split("\n").filter((l) => l !== "").map(Number);
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await gateway.close();
      await remote.close();
    },
  };
}

/** The text of a tool result's first content item. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content[0]?.text ?? "";
}
