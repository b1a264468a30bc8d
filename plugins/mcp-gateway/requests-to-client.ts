/**
 * Requests the servers send the session's client (sampling, elicitation, roots/list, ping), with
 * what travels beside them. Each goes out under an id of the session's own (`switchyard-N`), so
 * two servers' ids never meet in one client, and the client's answer goes back to the server that
 * asked, under the server's id (the upstream's SDK Client keeps that). A progress token the server
 * put in the request becomes the same `switchyard-N`, and the client's progress for it reaches the
 * server with the server's token; a server that cancels its request has the client told, under
 * the client's id. Messages for these requests are taken off the session's transport before the
 * SDK Server sees them: they answer nothing the Server sent.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { McpError, type JSONRPCMessage, type RequestId, type Result } from "@modelcontextprotocol/sdk/types.js";
import { JSON_RPC } from "../../lib/mcp/json-rpc-errors.js";
import { FORWARDED_REQUESTS } from "../../lib/mcp/server-requests.js";
import type { UpstreamRequest, UpstreamRequestContext } from "../../lib/mcp/upstream.js";

interface Waiting {
  resolve(result: Result): void;
  reject(err: unknown): void;
  /** The server's progress token, when it asked for progress. */
  serverToken?: string | number;
  toServer: UpstreamRequestContext["sendNotification"];
}

/** An error the client answered, passed to the server as the client wrote it (McpError would prefix its message). */
class ClientError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

export class RequestsToClient {
  private next = 0;
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly transport: StreamableHTTPServerTransport, private readonly server: Server) {}

  /** Takes the client's answers (and progress) to these requests off the transport, ahead of the SDK Server. */
  intercept(): void {
    const receive = this.transport.onmessage;
    this.transport.onmessage = (message, extra) => {
      if (!this.take(message)) receive?.(message, extra);
    };
  }

  /** The id of a response in `body` (a message or a batch) that answers no request waiting here, if there is one. */
  strayResponseId(body: unknown): RequestId | null | undefined {
    for (const m of Array.isArray(body) ? body : [body]) {
      if (isResponse(m) && !(typeof m.id === "string" && this.waiting.has(m.id))) return m.id as RequestId | null;
    }
    return undefined;
  }

  /**
   * Sends `request` to the client, on the POST stream of the call `relatedCall` when given (the
   * call that made the server ask), else on the session's GET stream; resolves with its answer.
   */
  send(request: UpstreamRequest, context: UpstreamRequestContext, relatedCall: RequestId | undefined): Promise<Result> {
    const capability = FORWARDED_REQUESTS.get(request.method);
    if (capability !== undefined && this.server.getClientCapabilities()?.[capability] === undefined) {
      return Promise.reject(new McpError(JSON_RPC.methodNotFound, `the client did not declare the ${capability} capability, which ${request.method} needs`));
    }
    if (context.signal.aborted) return Promise.reject(new McpError(JSON_RPC.serverError, "cancelled"));
    const id = `switchyard-${++this.next}`;
    const params = { ...request.params };
    const meta = params._meta as Record<string, unknown> | undefined;
    const serverToken = meta?.progressToken as string | number | undefined;
    if (serverToken !== undefined) params._meta = { ...meta, progressToken: id };
    const options = relatedCall === undefined ? undefined : { relatedRequestId: relatedCall };
    return new Promise<Result>((resolve, reject) => {
      const cancelled = () => {
        if (!this.waiting.delete(id)) return;
        const reason = context.signal.reason instanceof Error ? context.signal.reason.message : typeof context.signal.reason === "string" ? context.signal.reason : "cancelled by the server";
        this.transport.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason } }, options).catch(() => undefined);
        reject(new McpError(JSON_RPC.serverError, "cancelled"));
      };
      const settle = <T>(then: (value: T) => void) => (value: T) => {
        context.signal.removeEventListener("abort", cancelled);
        then(value);
      };
      this.waiting.set(id, { resolve: settle(resolve), reject: settle(reject), serverToken, toServer: context.sendNotification });
      context.signal.addEventListener("abort", cancelled, { once: true });
      this.transport.send({ jsonrpc: "2.0", id, method: request.method, ...(request.params === undefined ? {} : { params }) }, options).catch((err: unknown) => {
        if (!this.waiting.delete(id)) return;
        reject(new McpError(JSON_RPC.internalError, `switchyard could not reach the client: ${err instanceof Error ? err.message : String(err)}`));
      });
    });
  }

  /** The session ended: every request still waiting gets an error for its server. */
  closeAll(): void {
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      w.reject(new McpError(JSON_RPC.serverError, "the client's session ended"));
    }
  }

  private take(message: JSONRPCMessage): boolean {
    if (isResponse(message)) {
      const w = typeof message.id === "string" ? this.waiting.get(message.id) : undefined;
      if (w === undefined) return false;
      this.waiting.delete(message.id as string);
      const answer = message as Response;
      if ("result" in answer) w.resolve(answer.result as Result);
      else w.reject(new ClientError(answer.error.code, answer.error.message, answer.error.data));
      return true;
    }
    if ("method" in message && message.method === "notifications/progress" && !("id" in message)) {
      const token = (message.params as { progressToken?: unknown } | undefined)?.progressToken;
      const w = typeof token === "string" ? this.waiting.get(token) : undefined;
      if (w?.serverToken === undefined) return false;
      w.toServer({ method: "notifications/progress", params: { ...message.params, progressToken: w.serverToken } }).catch(() => undefined);
      return true;
    }
    return false;
  }
}

type Response = { jsonrpc: "2.0"; id: unknown; result: unknown } | { jsonrpc: "2.0"; id: unknown; error: { code: number; message: string; data?: unknown } };

function isResponse(message: unknown): message is Response {
  return typeof message === "object" && message !== null && !("method" in message) && "id" in message && ("result" in message || "error" in message);
}
