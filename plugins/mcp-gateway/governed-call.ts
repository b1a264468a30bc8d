/**
 * One JSON-RPC call through the pipeline's policy: the call gets an exchange of its own (the HTTP
 * request's caller, the JSON-RPC message as its body), the validate steps run on it (rate limits,
 * guards, anything with a `when` on the method or tool), then the tool access rules, then the
 * call itself; settle and one record follow whatever happened. Refusals and failures become
 * JSON-RPC errors that name what refused (a step, the access rules, a server that is down).
 */
import { randomUUID } from "node:crypto";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { GatewayError, type Answer, type Exchange, type Logger, type PipelineHooks, type RequestRecord } from "../../core/index.js";
import { JSON_RPC, jsonRpcErrorOf } from "../../lib/mcp/json-rpc-errors.js";
import type { ToolFilter } from "./access.js";
import { PLUGIN } from "./catalog.js";

export interface CallPolicy {
  readonly hooks: PipelineHooks;
  readonly log: Logger;
  readonly recordPayloads: boolean;
}

export interface CallContext {
  /** The HTTP request that carried the message: its caller, headers and route. */
  readonly http: Exchange;
  readonly sessionId: string;
  readonly tools: ToolFilter;
}

export interface JsonRpcCall {
  id: string | number;
  method: string;
  params?: Record<string, unknown>;
}

/** What the record says about one call, beyond the common fields. */
export interface McpCallDetail {
  session: string;
  method: string;
  requestId: string | number;
  tool?: string;
  server?: string;
  requestBytes: number;
  responseBytes?: number;
  /** The JSON-RPC error code the client got. */
  errorCode?: number;
  arguments?: unknown;
  result?: unknown;
}

export type McpCallRecord = RequestRecord & { mcp: McpCallDetail };

/** What a call is aimed at, known before it runs (the tool and server a prefixed name resolves to). */
export interface CallTarget {
  tool?: string;
  server?: string;
}

export async function governedCall<T>(policy: CallPolicy, ctx: CallContext, call: JsonRpcCall, target: CallTarget, forward: (params: Record<string, unknown> | undefined) => Promise<T>): Promise<T> {
  const x = callExchange(ctx.http, call);
  // Sizes cost a serialisation each: measured only when a sink will store them.
  const recording = policy.hooks.record.taps.length > 0;
  const detail: McpCallDetail = { session: ctx.sessionId, method: call.method, requestId: call.id, requestBytes: recording ? byteSize(call) : 0, ...target };
  try {
    const refused = await policy.hooks.validate.promise(x);
    if (refused) throw refusalOf(refused);
    if (target.tool !== undefined && !ctx.tools(target.tool)) {
      throw new GatewayError({ status: 403, type: "permission", code: "tool_not_allowed", source: PLUGIN, message: `this API key may not use tool "${target.tool}"` });
    }
    const params = x.body.params as Record<string, unknown> | undefined;
    if (policy.recordPayloads) detail.arguments = call.method === "tools/call" || call.method === "prompts/get" ? params?.arguments : params;
    const result = await forward(params);
    x.status = 200;
    if (recording) detail.responseBytes = byteSize(result);
    if (policy.recordPayloads) detail.result = result;
    return result;
  } catch (err) {
    const failure = asMcpFailure(err, target.server);
    x.status = failure.status;
    x.error = failure.gateway;
    detail.errorCode = failure.error.code;
    throw failure.error;
  } finally {
    await policy.hooks.settle.promise(x).catch((err: unknown) => policy.log.warn({ request: x.id, err: String(err) }, "settle failed"));
    if (recording) {
      policy.hooks.record.promise(recordOf(x, detail), x).catch((err: unknown) => policy.log.warn({ request: x.id, err: String(err) }, "record failed"));
    }
  }
}

/** The call's own exchange: the HTTP request's caller and headers, the message as its body, fresh per-request fields. */
function callExchange(http: Exchange, call: JsonRpcCall): Exchange {
  return {
    ...http,
    id: randomUUID(), startedAt: Date.now(), startedHr: performance.now(),
    body: { jsonrpc: "2.0", id: call.id, method: call.method, ...(call.params === undefined ? {} : { params: call.params }) },
    received: undefined, model: undefined, stream: false, heldBack: undefined, ir: undefined,
    responseHeaders: {}, headersSent: false, attempts: [], notes: [],
    backend: undefined, upstreamModel: undefined, usage: undefined, costUsd: undefined, status: undefined, error: undefined, ttfbMs: undefined,
  };
}

function refusalOf(answer: Answer): GatewayError {
  if (answer instanceof GatewayError) return answer;
  return new GatewayError({ status: answer.status, type: "permission", code: "refused", source: PLUGIN, message: `a step refused the call (${answer.status})` });
}

interface McpFailure {
  status: number;
  error: McpError;
  gateway?: GatewayError;
}

/** A JSON-RPC error for the client, and the HTTP-like status its record keeps. */
function asMcpFailure(err: unknown, server: string | undefined): McpFailure {
  if (err instanceof GatewayError) {
    const rpc = jsonRpcErrorOf(err);
    const data = server === undefined ? rpc.data : { ...rpc.data, server };
    return { status: err.status, error: new McpError(rpc.code === JSON_RPC.invalidRequest ? JSON_RPC.invalidParams : rpc.code, err.message, data), gateway: err };
  }
  if (err instanceof McpError) {
    // The upstream's own answer (an unknown tool, bad arguments), or the SDK's timeout.
    const status = err.code === ErrorCode.RequestTimeout ? 504 : err.code === ErrorCode.InvalidParams ? 400 : 502;
    return { status, error: err, gateway: new GatewayError({ status, type: status === 504 ? "timeout" : "upstream_error", code: `json_rpc_${err.code}`, source: server ?? PLUGIN, message: err.message }) };
  }
  const message = err instanceof Error ? err.message : String(err);
  const cancelled = err instanceof Error && err.name === "AbortError";
  const status = cancelled ? 499 : 502;
  return {
    status,
    error: new McpError(JSON_RPC.serverError, server === undefined ? message : `MCP server ${server} failed: ${message}`, server === undefined ? undefined : { server }),
    gateway: new GatewayError({ status, type: "upstream_error", code: cancelled ? "cancelled" : "upstream_failed", source: server ?? PLUGIN, message }),
  };
}

function recordOf(x: Exchange, detail: McpCallDetail): McpCallRecord {
  const record: McpCallRecord = {
    id: x.id, time: new Date(x.startedAt).toISOString(), pipeline: x.pipelineId, route: x.route.path, format: x.route.format,
    stream: false, status: x.status ?? 500, latencyMs: Math.round((performance.now() - x.startedHr) * 100) / 100, costUsd: null, attempts: [],
    mcp: detail,
  };
  if (x.tenant !== undefined) record.tenant = x.tenant;
  if (x.keyId !== undefined) record.keyId = x.keyId;
  if (detail.server !== undefined) record.backend = detail.server;
  if (x.error !== undefined) record.error = { type: x.error.type, code: x.error.code, message: x.error.message };
  if (x.notes.length > 0) record.notes = [...x.notes];
  return record;
}

function byteSize(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
}
