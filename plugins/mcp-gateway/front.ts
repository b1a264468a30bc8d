/**
 * The HTTP side of the mcp endpoint: one route path, POST (messages), GET (the server's stream)
 * and DELETE (end the session). What needs the session table is settled here — Origin, which
 * session an Mcp-Session-Id names and whether this caller may use it, the body's size and JSON,
 * a response that answers nothing, GET streams on drain — and the rest goes to the session's SDK
 * transport, which answers per the spec (protocol version, Accept, batches, notifications, SSE or
 * JSON, Last-Event-ID).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { readBody, type Answer, type EndpointIo, type EndpointResult, type Exchange, type Logger, type PipelineHooks } from "../../core/index.js";
import { JSON_RPC, jsonRpcErrorBody } from "../../lib/mcp/json-rpc-errors.js";
import { mcpTapes } from "../../lib/mcp/tape.js";
import type { ToolFilter } from "./access.js";
import { GatewaySession, type CarriedExchange, type SessionSettings } from "./session.js";

export interface FrontSettings extends SessionSettings {
  readonly hooks: PipelineHooks;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly maxMessageBytes: number;
  readonly maxSessions: number;
  readonly sessionIdleMs: number;
  readonly toolsFor: (caller: Exchange) => ToolFilter;
}

class TooLarge extends Error {}

export class McpFront {
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly settings: FrontSettings, private readonly log: Logger) {
    this.sweeper = setInterval(() => this.endIdle(), Math.min(settings.sessionIdleMs, 60_000));
    this.sweeper.unref();
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  async serve(x: Exchange, io: EndpointIo): Promise<EndpointResult> {
    const { req } = io;
    const origin = req.headers.origin;
    if (origin !== undefined && !this.settings.allowedOrigins.has(origin)) return rpcError(403, JSON_RPC.serverError, `Forbidden: origin ${origin} is not allowed`);
    // A new GET stream would only hold the drain to its deadline: the client goes elsewhere.
    if (req.method === "GET" && io.draining.aborted) return rpcError(503, JSON_RPC.serverError, "Service Unavailable: the gateway is shutting down", { "retry-after": "1" });
    const sessionId = header(req, "mcp-session-id");
    let session: GatewaySession | undefined;
    if (sessionId !== undefined) {
      session = this.sessions.get(sessionId);
      // Another key's session is as unknown to this caller as a made-up id.
      if (session === undefined || session.owner !== ownerOf(x)) return rpcError(404, JSON_RPC.sessionNotFound, "Session not found");
    }
    let body: unknown;
    if (req.method === "POST") {
      try {
        body = await this.readMessage(req);
      } catch (err) {
        if (err instanceof TooLarge) return rpcError(413, JSON_RPC.serverError, `Payload Too Large: a message may have at most ${this.settings.maxMessageBytes} bytes`, { connection: "close" });
        return rpcError(400, JSON_RPC.parseError, "Parse error: Invalid JSON");
      }
      if (session === undefined) {
        if (!isInitializeRequest(body)) return rpcError(400, JSON_RPC.serverError, "Bad Request: Mcp-Session-Id header is required (start a session with initialize)");
        if (this.sessions.size >= this.settings.maxSessions) return rpcError(503, JSON_RPC.serverError, "Service Unavailable: too many open sessions");
        session = await this.open(x);
      } else {
        // A response must answer a request the session sent its client; the SDK would drop any other without a word.
        const stray = session.toClient.strayResponseId(body);
        if (stray !== undefined) return rpcError(400, JSON_RPC.invalidRequest, `Invalid Request: this session sent its client no request with id ${JSON.stringify(stray)} awaiting an answer`);
      }
    } else if (session === undefined) {
      return rpcError(400, JSON_RPC.serverError, "Bad Request: Mcp-Session-Id header is required");
    }
    await this.handOver(session, x, io, body);
    return "written";
  }

  /** Ends every session (drain): streams close, upstream sessions end, tapes are flushed. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(open.map((s) => s.close()));
  }

  private async open(x: Exchange): Promise<GatewaySession> {
    const id = randomUUID();
    const tape = await mcpTapes(this.settings.hooks).promise({ sessionId: id }, x);
    const session = new GatewaySession(id, ownerOf(x), this.settings.toolsFor(x), this.settings, tape, (s) => {
      if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
    });
    await session.start();
    this.sessions.set(id, session);
    return session;
  }

  private async handOver(session: GatewaySession, x: Exchange, io: EndpointIo, body: unknown): Promise<void> {
    const { req, res } = io;
    session.openRequests += 1;
    session.lastSeen = Date.now();
    // The handlers find the HTTP request a message came on (its caller, for policy and records) here.
    (req as IncomingMessage & { auth?: unknown }).auth = { token: "", clientId: x.keyId ?? "", scopes: [], extra: { exchange: x } satisfies CarriedExchange };
    // The pipeline's time budget or the client leaving ends the HTTP response; a call it carried
    // goes on, and its events wait in the session for a reconnect with Last-Event-ID.
    const cut = () => res.destroy();
    x.signal.addEventListener("abort", cut, { once: true });
    // A drain ends the session's GET stream at once (the client reconnects elsewhere, with
    // Last-Event-ID); POST streams end with their calls. A GET whose stream is not set up yet (no
    // headers written) is cut: the transport would register its stream only after this ran.
    const endStream = () => (res.headersSent ? session.transport.closeStandaloneSSEStream() : res.destroy());
    if (req.method === "GET") io.draining.addEventListener("abort", endStream, { once: true });
    io.applyExchangeHeaders();
    x.headersSent = true;
    try {
      await session.transport.handleRequest(req, res, body);
    } finally {
      x.signal.removeEventListener("abort", cut);
      io.draining.removeEventListener("abort", endStream);
      x.status = res.statusCode;
      session.openRequests -= 1;
      session.lastSeen = Date.now();
      // An initialize the transport refused leaves a session nobody can name: drop it.
      if (session.transport.sessionId === undefined) void session.close();
    }
  }

  private async readMessage(req: IncomingMessage): Promise<unknown> {
    const max = this.settings.maxMessageBytes;
    if (Number(req.headers["content-length"]) > max) throw new TooLarge();
    const bytes = await readBody(req, { maxBytes: max, overLimit: () => new TooLarge() });
    return JSON.parse(bytes.toString("utf8"));
  }

  private endIdle(): void {
    const before = Date.now() - this.settings.sessionIdleMs;
    for (const session of this.sessions.values()) {
      if (session.openRequests === 0 && session.lastSeen < before) {
        this.sessions.delete(session.id);
        this.log.info({ session: session.id }, "mcp session ended after being idle");
        void session.close();
      }
    }
  }
}

function ownerOf(x: Exchange): string {
  return x.keyId ?? "";
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function rpcError(status: number, code: number, message: string, headers?: Record<string, string>): Answer {
  return { status, body: jsonRpcErrorBody({ code, message }), ...(headers === undefined ? {} : { headers }) };
}
