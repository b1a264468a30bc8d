/**
 * The upstream sessions of one remote MCP server: one SDK client per gateway session, opened at
 * its first call and ended (DELETE upstream) with it. The SDK's Streamable HTTP client transport
 * does the resuming: a dropped SSE stream is reopened with backoff and Last-Event-ID.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, type StreamableHTTPReconnectionOptions } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { redactSecrets, type Logger } from "../../core/index.js";
import { mirroredCapabilities, takeServerRequests } from "../../lib/mcp/server-requests.js";
import { mcpServerDown, type McpUpstream, type SessionPeer } from "../../lib/mcp/upstream.js";

export const PLUGIN = "provider-mcp-http";

export interface HttpServerOptions {
  url: URL;
  headers: Record<string, string>;
  requestTimeoutMs: number;
  reconnect: StreamableHTTPReconnectionOptions;
}

export class HttpServerSessions implements McpUpstream {
  private readonly clients = new Map<string, Promise<Client>>();
  private closing = false;
  /** Why the last upstream session could not be opened; cleared by the next that opens. */
  private lastFailure: string | undefined = "no session opened yet";

  constructor(private readonly backend: string, private readonly options: HttpServerOptions, private readonly log: Logger) {}

  get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs;
  }

  status(): { up: boolean; reason?: string } {
    return this.lastFailure === undefined ? { up: true } : { up: false, reason: this.lastFailure };
  }

  connect(peer: SessionPeer): Promise<Client> {
    const sessionId = peer.sessionId;
    if (this.closing) return Promise.reject(mcpServerDown(this.backend, "the gateway is shutting down", PLUGIN));
    let client = this.clients.get(sessionId);
    if (client === undefined) {
      // A failed open, or an upstream session that ended, is not kept: the session's next call opens a new one.
      const forget = () => {
        if (this.clients.get(sessionId) === opened) this.clients.delete(sessionId);
      };
      const opened = this.open(peer, forget);
      opened.catch(forget);
      this.clients.set(sessionId, opened);
      client = opened;
    }
    return client;
  }

  async release(sessionId: string): Promise<void> {
    const client = this.clients.get(sessionId);
    this.clients.delete(sessionId);
    if (client) await end(await client.catch(() => undefined));
  }

  async closeAll(): Promise<void> {
    this.closing = true;
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map(async (c) => end(await c)));
  }

  private async open(peer: SessionPeer, onClosed: () => void): Promise<Client> {
    const sessionId = peer.sessionId;
    const transport = new StreamableHTTPClientTransport(this.options.url, { requestInit: { headers: this.options.headers }, reconnectionOptions: this.options.reconnect });
    // The server learns what this session's client can do, as if it were talking to it.
    const client = new Client({ name: "switchyard", version: "0.1.0" }, { capabilities: mirroredCapabilities(peer.clientCapabilities()) });
    client.fallbackNotificationHandler = async (notification) => peer.notify(notification as { method: string; params?: Record<string, unknown> });
    takeServerRequests(client, (request, context) => peer.request(request, context));
    client.onerror = (err) => this.log.warn({ session: sessionId, err: redactSecrets(err.message) }, "mcp upstream stream error");
    client.onclose = onClosed;
    try {
      await client.connect(transport, { timeout: this.options.requestTimeoutMs });
    } catch (err) {
      await client.close().catch(() => undefined);
      const reason = err instanceof Error ? redactSecrets(err.message) : "connection failed";
      this.log.warn({ session: sessionId, err: reason }, "mcp server unreachable");
      this.lastFailure = "it could not be reached";
      throw mcpServerDown(this.backend, "it could not be reached", PLUGIN);
    }
    this.lastFailure = undefined;
    return client;
  }
}

/** Ends the upstream session (DELETE, as the spec asks of a client that leaves), then closes the client. */
async function end(client: Client | undefined): Promise<void> {
  if (!client) return;
  const transport = client.transport as StreamableHTTPClientTransport | undefined;
  await transport?.terminateSession().catch(() => undefined);
  await client.close().catch(() => undefined);
}
