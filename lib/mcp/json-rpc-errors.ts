/**
 * The gateway's own errors as JSON-RPC error objects, for MCP clients: the HTTP status stays the
 * gateway's (401, 403, 429…) and the body is what an MCP client reads. Standard codes where the
 * spec has one; -32000 (implementation-defined server error) for the rest, with the gateway's
 * stable type and code in `data` so a client can tell a rate limit from a denied tool.
 */
import type { GatewayError } from "../../core/index.js";

export const JSON_RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  serverError: -32000,
  /** What the SDK and the spec's examples answer for an unknown or expired Mcp-Session-Id. */
  sessionNotFound: -32001,
} as const;

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

export function jsonRpcErrorOf(err: GatewayError): JsonRpcErrorObject {
  const code = err.status === 400 ? JSON_RPC.invalidRequest : err.status >= 500 && err.type === "internal" ? JSON_RPC.internalError : JSON_RPC.serverError;
  const data: Record<string, unknown> = { status: err.status, type: err.type, code: err.code };
  if (err.retryAfterMs !== undefined) data.retryAfterMs = err.retryAfterMs;
  return { code, message: err.message, data };
}

/** A whole JSON-RPC error response (no request id known, as for errors before a message was read). */
export function jsonRpcErrorBody(error: JsonRpcErrorObject, id: string | number | null = null): unknown {
  return { jsonrpc: "2.0", id, error };
}
