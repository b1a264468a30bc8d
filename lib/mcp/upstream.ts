/**
 * What an MCP backend carries: a Provider (so it sits in a pipeline's `backends` like any other,
 * health and selection included) that also holds an MCP client. The Provider contract is for
 * model calls, so the MCP side is an extra property found by `mcpUpstreamOf`, not a change to the
 * contract: provider-mcp-stdio and provider-mcp-http set it, the mcp-gateway step reads it.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { ClientCapabilities, Result } from "@modelcontextprotocol/sdk/types.js";
import { GatewayError, type Provider } from "../../core/index.js";

/** A notification an upstream sends outside any call (`notifications/tools/list_changed`…). */
export interface UpstreamNotification {
  method: string;
  params?: Record<string, unknown>;
}

/** A request an upstream sends its client (sampling, elicitation, roots/list, ping). */
export interface UpstreamRequest {
  method: string;
  params?: Record<string, unknown>;
}

/** The upstream's side of one server request: aborted when the server cancels it; notifications (progress) go back to the server as related to it. */
export interface UpstreamRequestContext {
  signal: AbortSignal;
  sendNotification(notification: UpstreamNotification): Promise<void>;
}

/** One gateway session as a server behind it sees it. */
export interface SessionPeer {
  readonly sessionId: string;
  /** What the session's client declared in initialize (an upstream session of its own declares the same to its server). */
  clientCapabilities(): ClientCapabilities;
  /** A notification the server sends outside any call (`notifications/tools/list_changed`…). */
  notify(notification: UpstreamNotification): void;
  /** This session's calls running on this server now: how a shared server's request finds the session it belongs to. */
  callsRunning(): number;
  /** A request from the server for the session's client. Resolves with the client's result; rejects with the error the server gets. */
  request(request: UpstreamRequest, context: UpstreamRequestContext): Promise<Result>;
}

export interface McpUpstream {
  /**
   * The client session `peer` calls this server through: one shared by every session (stdio: one
   * subprocess), or an upstream session of its own (http). `peer` hears the server's notifications
   * and requests until `release`. Rejects with an `mcp_server_down` GatewayError naming the
   * backend when the server cannot be reached.
   */
  connect(peer: SessionPeer): Promise<Client>;
  /** The gateway session ended: stop telling it about notifications and requests; end its own upstream session, if it has one. */
  release(sessionId: string): Promise<void>;
  /** How long one call may take, progress included. */
  readonly requestTimeoutMs: number;
  /** Whether the server answers now (stdio: its process is up; http: the last session opened); `reason` says why not. */
  status(): { up: boolean; reason?: string };
}

export interface McpProvider extends Provider {
  readonly mcp: McpUpstream;
}

export function mcpUpstreamOf(provider: Provider): McpUpstream | undefined {
  const mcp = (provider as Partial<McpProvider>).mcp;
  return mcp !== undefined && typeof mcp.connect === "function" ? mcp : undefined;
}

/** The server behind `backend` cannot be reached now; `reason` is safe to show (no addresses, no secrets). */
export function mcpServerDown(backend: string, reason: string, source: string): GatewayError {
  return new GatewayError({ status: 503, type: "unavailable", code: "mcp_server_down", source, message: `MCP server ${backend} is unavailable: ${reason}` });
}

/** A model request sent to an MCP backend: a pipeline mixing both kinds routed one to the other. */
export function modelCallRefused(source: string): Promise<never> {
  return Promise.reject(new GatewayError({
    status: 500, type: "internal", code: "mcp_only", source,
    message: `${source} backends serve mcp routes only; model requests need a model provider (provider-openai…)`,
  }));
}

/** Delay before restart or reconnect number `attempt` (0-based): doubling from `initialMs`, capped at `maxMs`. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}
