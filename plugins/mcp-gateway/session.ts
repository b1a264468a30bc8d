/**
 * One gateway session: the SDK's Server and Streamable HTTP transport the client talks to (they
 * keep the protocol: initialize, ping, batches, SSE streams, Last-Event-ID replay, cancellation),
 * and the aggregating handlers behind it. Each backend is reached through its upstream, which
 * gives this session a client of its own (http) or the shared one (stdio); list_changed and
 * resource updates from a backend come back on the session's GET stream, and its requests for
 * the client (requests-to-client.ts) on the stream of the call that made it ask.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  CallToolRequestSchema, CallToolResultSchema, GetPromptRequestSchema, GetPromptResultSchema, ListPromptsRequestSchema, ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema, ReadResourceResultSchema, RootsListChangedNotificationSchema,
  type JSONRPCMessage, type Prompt, type RequestId, type Resource, type ResourceTemplate, type ServerCapabilities, type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import type { Exchange, Logger } from "../../core/index.js";
import { JSON_RPC } from "../../lib/mcp/json-rpc-errors.js";
import type { SessionTape } from "../../lib/mcp/tape.js";
import type { SessionPeer, UpstreamNotification } from "../../lib/mcp/upstream.js";
import type { ToolFilter } from "./access.js";
import { listAll, type Catalog, type McpBackend } from "./catalog.js";
import { progressRoutes } from "./progress-routes.js";
import { governedCall, type CallPolicy, type CallTarget } from "./governed-call.js";
import { RecentEvents } from "./recent-events.js";
import { RequestsToClient } from "./requests-to-client.js";

/** Where a list's result says which servers it had to leave out, so an empty list is never silent. */
export const UNAVAILABLE_META = "switchyard.dev/unavailable";
/** MCP's code for a resource no server has. */
const RESOURCE_NOT_FOUND = -32002;
/** Notifications a backend sends that every session using it should hear. */
const FORWARDED = new Set(["notifications/tools/list_changed", "notifications/resources/list_changed", "notifications/prompts/list_changed", "notifications/resources/updated"]);

export interface SessionSettings {
  readonly policy: CallPolicy;
  readonly catalog: Catalog;
  readonly jsonResponse: boolean;
  readonly eventsPerStream: number;
  readonly streamsPerSession: number;
  readonly log: Logger;
  /** Backend id -> how often a list left it out, for the backend-states question (metrics, admin). */
  readonly leftOut: Map<string, number>;
}

/** The HTTP request a message came on, handed to the handlers through the SDK's per-request auth info. */
export interface CarriedExchange {
  exchange: Exchange;
}

type Extra = { signal: AbortSignal; authInfo?: { extra?: Record<string, unknown> }; _meta?: { progressToken?: string | number }; sendNotification: (n: { method: string; params?: Record<string, unknown> }) => Promise<void>; requestId: string | number };

export class GatewaySession {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  /** Requests of this session being served now (an open GET stream counts): an idle sweep leaves the session alone while any is. */
  openRequests = 0;
  lastSeen = Date.now();
  /** The servers' requests to this session's client, and the answers coming back. */
  readonly toClient: RequestsToClient;
  private readonly used = new Set<McpBackend>();
  private readonly peers = new Map<McpBackend, SessionPeer>();
  /** The client's calls running on each backend, by their JSON-RPC id: where a server's request during a call goes. */
  private readonly running = new Map<McpBackend, Set<RequestId>>();
  private closed = false;

  constructor(
    readonly id: string,
    /** The key that opened the session: only it may use the session (a session id is no credential). */
    readonly owner: string,
    private readonly tools: ToolFilter,
    private readonly settings: SessionSettings,
    private readonly tape: SessionTape | undefined,
    onClosed: (session: GatewaySession) => void,
  ) {
    this.transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      enableJsonResponse: settings.jsonResponse,
      eventStore: new RecentEvents(settings.eventsPerStream, settings.streamsPerSession),
    });
    const capabilities: ServerCapabilities = { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } };
    this.server = new Server({ name: "switchyard", version: "0.1.0" }, { capabilities });
    this.server.onclose = () => {
      void this.close();
      onClosed(this);
    };
    this.toClient = new RequestsToClient(this.transport, this.server);
    this.registerHandlers();
  }

  async start(): Promise<void> {
    await this.server.connect(this.transport);
    this.toClient.intercept();
    if (this.tape) this.recordFrames(this.tape);
  }

  /** Ends the session: its streams, its upstream sessions, its tape. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.toClient.closeAll();
    await this.server.close().catch(() => undefined);
    await Promise.allSettled([...this.used].map((b) => b.upstream.release(this.id)));
    await this.tape?.close();
  }

  private recordFrames(tape: SessionTape): void {
    const transport = this.transport;
    const receive = transport.onmessage;
    transport.onmessage = (message, extra) => {
      tape.write("client", message);
      receive?.(message, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = (message: JSONRPCMessage, options) => {
      tape.write("server", message);
      return send(message, options);
    };
  }

  private client(backend: McpBackend): Promise<Client> {
    this.used.add(backend);
    return backend.upstream.connect(this.peerOf(backend));
  }

  private peerOf(backend: McpBackend): SessionPeer {
    let peer = this.peers.get(backend);
    if (peer === undefined) {
      peer = {
        sessionId: this.id,
        clientCapabilities: () => this.server.getClientCapabilities() ?? {},
        notify: (n) => this.fromUpstream(n),
        callsRunning: () => this.running.get(backend)?.size ?? 0,
        // On the POST stream of the call that made the server ask, when that call is known: the
        // only one of this session running on the server (JSON answers have no stream to carry it).
        request: (request, context) => {
          const calls = this.running.get(backend);
          const related = !this.settings.jsonResponse && calls?.size === 1 ? [...calls][0] : undefined;
          return this.toClient.send(request, context, related);
        },
      };
      this.peers.set(backend, peer);
    }
    return peer;
  }

  private fromUpstream(notification: UpstreamNotification): void {
    if (this.closed || !FORWARDED.has(notification.method)) return;
    this.server.notification(notification as { method: "notifications/tools/list_changed" }).catch(() => undefined);
  }

  private registerHandlers(): void {
    const { catalog } = this.settings;
    // The servers this session uses hear that its client's roots changed (a shared server from every session using it).
    this.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
      await Promise.allSettled([...this.used].map(async (backend) => (await this.client(backend)).sendRootsListChanged()));
    });
    this.server.setRequestHandler(ListToolsRequestSchema, (request, extra) =>
      this.governed(request, extra, {}, async () => {
        const { items, unavailable } = await this.fromEach("tools", "tools/list", (client, backend) => listAll(client, "tools/list", "tools", backend, catalog));
        return withUnavailable({ tools: (items as Tool[]).filter((t) => this.tools(t.name)) }, unavailable);
      }));
    this.server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
      const target = catalog.resolve(request.params.name);
      return this.governed(request, extra, { tool: request.params.name, server: target?.backend.id }, async (params) => {
        if (!target) throw new McpError(JSON_RPC.invalidParams, `unknown tool "${request.params.name}": no MCP server of this gateway has the prefix it starts with`);
        return this.forward(target.backend, extra, params, (client, p, options) => client.request({ method: "tools/call", params: { ...p, name: target.name } }, CallToolResultSchema, options));
      });
    });
    this.server.setRequestHandler(ListResourcesRequestSchema, (request, extra) =>
      this.governed(request, extra, {}, async () => withUnavailable({ resources: await this.resources() }, [])));
    this.server.setRequestHandler(ListResourceTemplatesRequestSchema, (request, extra) =>
      this.governed(request, extra, {}, async () => {
        const { items, unavailable } = await this.templates();
        return withUnavailable({ resourceTemplates: items }, unavailable);
      }));
    this.server.setRequestHandler(ReadResourceRequestSchema, (request, extra) => {
      return this.governed(request, extra, {}, async (params) => {
        const uri = request.params.uri;
        let owner = catalog.ownerOf(uri);
        if (owner === undefined) {
          // A client may read a URI it learned elsewhere: ask the servers what they have.
          await Promise.all([this.resources(), this.templates()]);
          owner = catalog.ownerOf(uri);
        }
        if (owner === undefined) throw new McpError(RESOURCE_NOT_FOUND, `no MCP server of this gateway has resource ${uri}`, { uri });
        return this.forward(owner, extra, params, (client, p, options) => client.request({ method: "resources/read", params: p as { uri: string } }, ReadResourceResultSchema, options));
      });
    });
    this.server.setRequestHandler(ListPromptsRequestSchema, (request, extra) =>
      this.governed(request, extra, {}, async () => {
        const { items, unavailable } = await this.fromEach("prompts", "prompts/list", (client, backend) => listAll(client, "prompts/list", "prompts", backend, catalog));
        return withUnavailable({ prompts: items as Prompt[] }, unavailable);
      }));
    this.server.setRequestHandler(GetPromptRequestSchema, (request, extra) => {
      const target = catalog.resolve(request.params.name);
      return this.governed(request, extra, { server: target?.backend.id }, async (params) => {
        if (!target) throw new McpError(JSON_RPC.invalidParams, `unknown prompt "${request.params.name}": no MCP server of this gateway has the prefix it starts with`);
        return this.forward(target.backend, extra, params, (client, p, options) => client.request({ method: "prompts/get", params: { ...p, name: target.name } }, GetPromptResultSchema, options));
      });
    });
  }

  private async resources(): Promise<Resource[]> {
    const { catalog } = this.settings;
    const { items } = await this.fromEach("resources", "resources/list", async (client, backend) => {
      const resources = (await listAll(client, "resources/list", "resources", backend, catalog)) as Resource[];
      catalog.noteResources(backend, resources.map((r) => r.uri));
      return resources;
    });
    return items as Resource[];
  }

  private templates(): Promise<{ items: ResourceTemplate[]; unavailable: string[] }> {
    const { catalog } = this.settings;
    return this.fromEach("resources", "resources/templates/list", async (client, backend) => {
      const templates = (await listAll(client, "resources/templates/list", "resourceTemplates", backend, catalog)) as ResourceTemplate[];
      catalog.noteTemplates(backend, templates.map((t) => t.uriTemplate));
      return templates;
    }) as Promise<{ items: ResourceTemplate[]; unavailable: string[] }>;
  }

  private governed<T>(request: { method: string; params?: Record<string, unknown> }, extra: Extra, target: CallTarget, forward: (params: Record<string, unknown> | undefined) => Promise<T>): Promise<T> {
    const http = (extra.authInfo?.extra as CarriedExchange | undefined)?.exchange;
    if (http === undefined) throw new McpError(JSON_RPC.internalError, "the request lost its caller on the way in");
    return governedCall(this.settings.policy, { http, sessionId: this.id, tools: this.tools }, { id: extra.requestId, method: request.method, params: request.params }, target, forward);
  }

  /** One call to `backend`, counted as running on it while it runs (where the server's requests meanwhile go). */
  private async forward<T>(backend: McpBackend, extra: Extra, params: Record<string, unknown> | undefined, call: (client: Client, params: Record<string, unknown>, options: RequestOptions) => Promise<T>): Promise<T> {
    const client = await this.client(backend);
    let calls = this.running.get(backend);
    if (calls === undefined) this.running.set(backend, (calls = new Set()));
    calls.add(extra.requestId);
    try {
      return await this.call(client, extra, params, backend.upstream.requestTimeoutMs, call);
    } finally {
      calls.delete(extra.requestId);
    }
  }

  /**
   * The call with cancellation (the client's notifications/cancelled aborts `extra.signal`; the
   * SDK tells the upstream) and progress passed on, under a token of the gateway's own
   * (progress-routes.ts). The progress notifications are written before the result: the stream
   * closes after the response, and a notification still on its way would be lost.
   */
  private async call<T>(client: Client, extra: Extra, params: Record<string, unknown> | undefined, timeout: number, call: (client: Client, params: Record<string, unknown>, options: RequestOptions) => Promise<T>): Promise<T> {
    const token = extra._meta?.progressToken;
    const options: RequestOptions = { signal: extra.signal, timeout };
    if (token === undefined) return call(client, params ?? {}, options);
    const sent: Promise<void>[] = [];
    const route = progressRoutes(client).open((progress) => {
      sent.push(extra.sendNotification({ method: "notifications/progress", params: { ...progress, progressToken: token } }).catch(() => undefined));
    });
    try {
      const meta = { ...(params?._meta as Record<string, unknown> | undefined), progressToken: route.token };
      const result = await call(client, { ...params, _meta: meta }, options);
      await Promise.all(sent);
      return result;
    } finally {
      route.close();
    }
  }

  /** Every backend whose server has `capability`, asked at once; one that cannot answer is left out, logged and named. */
  private async fromEach(capability: keyof ServerCapabilities, method: string, list: (client: Client, backend: McpBackend) => Promise<unknown[]>): Promise<{ items: unknown[]; unavailable: string[] }> {
    const unavailable: string[] = [];
    const parts = await Promise.all(this.settings.catalog.backends.map(async (backend) => {
      try {
        const client = await this.client(backend);
        if (client.getServerCapabilities()?.[capability] === undefined) return [];
        return await list(client, backend);
      } catch (err) {
        unavailable.push(backend.id);
        this.settings.leftOut.set(backend.id, (this.settings.leftOut.get(backend.id) ?? 0) + 1);
        this.settings.log.warn({ backend: backend.id, method, err: err instanceof Error ? err.message : String(err) }, "mcp server left out of the list: it did not answer");
        return [];
      }
    }));
    return { items: parts.flat(), unavailable };
  }
}

function withUnavailable<T extends Record<string, unknown>>(result: T, unavailable: string[]): T & { _meta?: Record<string, unknown> } {
  return unavailable.length === 0 ? result : { ...result, _meta: { [UNAVAILABLE_META]: unavailable } };
}
