/**
 * One MCP server subprocess and the one client session the gateway holds with it. Every gateway
 * session shares it: the SDK client numbers its own requests and keeps each call's progress and
 * cancellation apart, so sessions cannot mix. When the process exits it is started again, at once
 * if it had run a while, else after a delay that doubles with each failure in a row; a call that
 * comes while a start is due soon waits for it, any other fails at once naming the server.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Logger } from "../../core/index.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { JSON_RPC } from "../../lib/mcp/json-rpc-errors.js";
import { attributeRequest, SHARED_CLIENT_CAPABILITIES, takeServerRequests } from "../../lib/mcp/server-requests.js";
import { backoffMs, mcpServerDown, type McpUpstream, type SessionPeer } from "../../lib/mcp/upstream.js";

export const PLUGIN = "provider-mcp-stdio";
/** stderr lines longer than this are cut in the log: a server dumping a blob must not flood it. */
const MAX_STDERR_LINE = 2_000;

export interface StdioServerOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  startTimeoutMs: number;
  requestTimeoutMs: number;
  restartInitialDelayMs: number;
  restartMaxDelayMs: number;
  waitForRestartMs: number;
}

export class StdioServer implements McpUpstream {
  private client: Client | undefined;
  /** The start under way or scheduled, and when it is due. */
  private pending: { dueAt: number; client: Promise<Client>; timer?: NodeJS.Timeout } | undefined;
  private failuresInARow = 0;
  private lastFailure = "not started";
  private stopped = false;
  private readonly peers = new Map<string, SessionPeer>();

  constructor(private readonly backend: string, private readonly options: StdioServerOptions, private readonly log: Logger) {}

  start(): void {
    this.schedule(0);
  }

  async connect(peer: SessionPeer): Promise<Client> {
    const client = await this.ready();
    this.peers.set(peer.sessionId, peer);
    return client;
  }

  async release(sessionId: string): Promise<void> {
    this.peers.delete(sessionId);
  }

  /** Stops the process for good (drain, close): the SDK closes its stdin, then SIGTERM, then SIGKILL. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pending?.timer);
    this.pending = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }

  status(): { up: boolean; reason?: string } {
    return this.client ? { up: true } : { up: false, reason: this.stopped ? "stopped" : this.lastFailure };
  }

  private ready(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.stopped) return Promise.reject(mcpServerDown(this.backend, "the gateway is shutting down", PLUGIN));
    const pending = this.pending;
    if (pending && pending.dueAt - Date.now() <= this.options.waitForRestartMs) return pending.client;
    return Promise.reject(mcpServerDown(this.backend, `${this.lastFailure}; restarting`, PLUGIN));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    let timer: NodeJS.Timeout | undefined;
    const client = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, delayMs);
    }).then(() => this.spawn());
    client.catch(() => undefined); // a failed start is logged and rescheduled; waiting calls get its error
    this.pending = { dueAt: Date.now() + delayMs, client, timer };
  }

  private async spawn(): Promise<Client> {
    const { command, args, env, cwd } = this.options;
    const transport = new StdioClientTransport({ command, args, env: { ...getDefaultEnvironment(), ...env }, cwd, stderr: "pipe" });
    const stderr = transport.stderr;
    if (stderr) {
      createInterface({ input: stderr as Readable, crlfDelay: Infinity }).on("line", (line) => this.log.info({ stderr: line.slice(0, MAX_STDERR_LINE) }, "mcp server stderr"));
    }
    const client = new Client({ name: "switchyard", version: "0.1.0" }, { capabilities: SHARED_CLIENT_CAPABILITIES });
    client.fallbackNotificationHandler = async (notification) => {
      for (const peer of this.peers.values()) peer.notify(notification as { method: string; params?: Record<string, unknown> });
    };
    takeServerRequests(client, async (request, context) => {
      const peer = attributeRequest([...this.peers.values()]);
      if (typeof peer !== "string") return peer.request(request, context);
      // A ping asks whether its peer is there; the gateway is, whichever session it was meant for.
      if (request.method === "ping") return {};
      this.log.warn({ method: request.method, reason: peer }, "mcp server request could not be passed on");
      throw new McpError(JSON_RPC.serverError, `switchyard cannot pass ${request.method} on: ${peer}`);
    });
    const startedAt = Date.now();
    try {
      await client.connect(transport, { timeout: this.options.startTimeoutMs });
    } catch (err) {
      await client.close().catch(() => undefined);
      this.lastFailure = `it failed to start (${err instanceof Error ? err.message : String(err)})`;
      this.failuresInARow += 1;
      const delay = backoffMs(this.failuresInARow - 1, this.options.restartInitialDelayMs, this.options.restartMaxDelayMs);
      this.log.warn({ command, failures: this.failuresInARow, retryInMs: delay, err: this.lastFailure }, "mcp server failed to start");
      this.schedule(delay);
      throw mcpServerDown(this.backend, this.lastFailure, PLUGIN);
    }
    this.log.info({ command, pid: transport.pid }, "mcp server started");
    client.onclose = () => this.exited(client, startedAt);
    this.client = client;
    this.pending = undefined;
    return client;
  }

  private exited(client: Client, startedAt: number): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    // A process that ran a while gets a fresh start at once; one that keeps dying backs off.
    const ranLong = Date.now() - startedAt > this.options.restartMaxDelayMs;
    this.failuresInARow = ranLong ? 0 : this.failuresInARow + 1;
    const delay = this.failuresInARow === 0 ? 0 : backoffMs(this.failuresInARow - 1, this.options.restartInitialDelayMs, this.options.restartMaxDelayMs);
    this.lastFailure = "its process exited";
    this.log.warn({ command: this.options.command, retryInMs: delay }, "mcp server exited; restarting");
    this.schedule(delay);
  }

  /** Milliseconds a call to this server may take (the gateway passes it with every call). */
  get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs;
  }
}
