/**
 * The koa + @koa/router shell: mounts each pipeline's routes, answers probes, reads bodies under
 * the size limit, and drains on shutdown. It knows nothing of formats or plugins: a route hands
 * the request to its pipeline and the pipeline's format translator renders whatever goes wrong.
 */
import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import { once, setMaxListeners } from "node:events";
import { parse as parseQuery } from "node:querystring";
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Koa from "koa";
import { GatewayError } from "../contract/errors.js";
import { RequestEnd } from "../contract/request-end.js";
import { isObject } from "../contract/json-object.js";
import { canonicalPath } from "../contract/request-path.js";
import type { Exchange, RouteInfo } from "../contract/exchange.js";
import type { FormatTranslator, InboundRequestInfo } from "../contract/format.js";
import type { Logger } from "../contract/log.js";
import type { CompiledPipeline } from "../engine/compile.js";
import { newExchange } from "../engine/new-exchange.js";
import { readBody } from "../engine/read-body.js";
import { RecordQueue } from "../engine/records.js";
import { writeError } from "../engine/respond.js";
import { runExchange } from "../engine/run-exchange.js";
import { ANY_METHOD, RouteTable } from "./route-table.js";
import { acceptUpgrade } from "./upgrade.js";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A model name is kept, recorded and may become part of a backend's URL: bounded, printable, no dot segment (issue 11, items 3, 5). */
const MODEL_NAME = /^(?=[^\x00-\x1f\x7f]{1,256}$)(?!(.*\/)?\.\.?(\/|$))/;

/** What a listener serves: everything; or, split over two (`serve --admin-port`), `public` (probes and all but operator routes) and `operator` (only those). */
export type ListenerRoutes = "all" | "public" | "operator";

/**
 * Koa without the per-request response handling the pipeline does itself (it writes the raw
 * response, `ctx.respond = false`): koa's finish listeners on every response and socket
 * (on-finished), its 404 default and its respond() would run for each request and change nothing,
 * and its error handler would hold the context for as long as the request (a stream) lasts.
 */
class GatewayKoa extends Koa {
  handleRequest(ctx: Koa.Context, middleware: (ctx: Koa.Context) => Promise<unknown>): Promise<unknown> {
    return middleware(ctx).catch((err: unknown) => this.emit("error", err));
  }
}

export class GatewayServer {
  private readonly app = new GatewayKoa();
  private readonly servers: Server[] = [];
  /** Requests that came through a listener serving part of the routes, and which part. */
  private readonly sides = new WeakMap<IncomingMessage, ListenerRoutes>();
  private ready = false;
  /** Aborts when a drain starts: endpoints end long-lived streams rather than hold the drain to its deadline. */
  private readonly draining = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  /** Connections that have sent no request yet: node's close() leaves them open, so the drain ends them. */
  private readonly silent = new Set<Socket>();
  private readonly records = new RecordQueue();
  /** The mounted routes; a reload replaces it in one assignment (`swap`). */
  private table: RouteTable;

  /** `createListener`: the HTTP server to serve on, with its socket limits (timeouts, connection caps); node's plain one by default. */
  constructor(pipelines: readonly CompiledPipeline[], private readonly options: { log: Logger; createListener?: (handler: RequestListener) => Server }) {
    this.table = new RouteTable(pipelines);
    setMaxListeners(0, this.draining.signal); // every open long-lived stream listens, and stops listening when it ends
    // Straight on node's req/res rather than koa's header delegates: this runs for every request.
    this.app.use((ctx) => {
      const id = randomUUID(); // never the client's: records need a unique id (issue 11, item 13)
      ctx.res.setHeader("x-switchyard-request-id", id);
      ctx.respond = false; // the pipeline writes the raw response (streams included)
      // Everything after this (routes, conditions, records, proxies) sees the canonical path only.
      const url = ctx.req.url ?? "/";
      const path = canonicalPath(url);
      if (path === undefined) return this.refuse(ctx.req, ctx.res, url, GatewayError.invalidRequest("the request path has an escaped slash or is not a path", undefined, "invalid_path"));
      const queryAt = url.indexOf("?");
      ctx.req.url = queryAt < 0 ? path : path + url.slice(queryAt);
      const side = this.sides.get(ctx.req) ?? "all";
      const probe = side !== "operator" && (ctx.method === "GET" || ctx.method === "HEAD") ? this.probe(path) : undefined;
      if (probe) return void ctx.res.writeHead(probe.status, { "content-type": "application/json" }).end(JSON.stringify(probe.body));
      const table = this.table; // the request stays on the pipelines it started on, across a swap
      const match = table.lookup(ctx.req.method ?? "", path);
      if (!match || (side !== "all" && (match.route.operator === true) !== (side === "operator"))) return this.refuse(ctx.req, ctx.res, path, new GatewayError({ status: 404, type: "not_found", code: "unknown_route", message: `no route for ${ctx.req.method} ${path}` }));
      const { req, res } = ctx; // not ctx itself: the request's work must not hold koa's context
      const work = this.acceptRequest(match.pipeline, match.route, match.format, req, res, match.params, queryAt < 0 ? "" : url.slice(queryAt + 1));
      return this.track(work.catch((err: unknown) => void (res.headersSent ? res.destroy() : this.refuse(req, res, path, GatewayError.internal("core", err)))), table.inFlight);
    });
    this.app.on("error", (err: unknown) => options.log.warn({ err: String(err) }, "koa error"));
  }

  /** Mounts `pipelines` in one assignment; resolves once the ones replaced, their requests ended and recorded, are closed. */
  async swap(pipelines: readonly CompiledPipeline[]): Promise<void> {
    const old = this.table;
    this.table = new RouteTable(pipelines);
    await Promise.allSettled([...old.inFlight]).then(() => this.records.written());
    await Promise.allSettled(old.pipelines.map((p) => p.close()));
  }

  /** Kubernetes' probes: live while the process answers, started once listening, ready unless draining or a fail-closed store is down. */
  private probe(path: string): { status: number; body: unknown } | undefined {
    if (path === "/healthz" || path === "/livez") return { status: 200, body: { status: "ok" } };
    const pipelines = this.table.pipelines;
    const started = this.ready && pipelines.length > 0; // listening early, with no pipelines mounted yet, is starting
    if (path === "/startupz") return { status: started ? 200 : 503, body: { status: started ? "started" : "starting" } };
    if (path !== "/readyz") return undefined;
    // A fail-open store's outage leaves the gateway serving (said here so operators see it); a fail-closed one refuses every checked request.
    const storeDown = pipelines.some((p) => p.store.onUnavailable === "fail-closed" && p.store.health() !== "ok");
    const status = this.draining.signal.aborted ? "draining" : !started ? "loading" : storeDown ? "store_unavailable" : "ready";
    return { status: status === "ready" ? 200 : 503, body: { status, stores: Object.fromEntries(pipelines.map((p) => [p.id, p.store.status()])) } };
  }

  async listen(port: number, host: string, routes: ListenerRoutes = "all"): Promise<AddressInfo> {
    const app = this.app.callback();
    const handle: RequestListener = routes === "all" ? app : (req, res) => void (this.sides.set(req, routes), app(req, res));
    // A burst of new connections (a client pool opening at once) waits in the kernel's queue rather than being reset: 4096, not node's 511.
    const server = (this.options.createListener ?? createServer)(handle).listen(port, host, 4096);
    server.on("connection", (socket: Socket) => void (this.silent.add(socket), socket.once("close", () => this.silent.delete(socket))));
    server.on("request", (req: IncomingMessage) => this.silent.delete(req.socket));
    server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => (this.silent.delete(req.socket), acceptUpgrade(handle, req, socket, head, this.closing.signal)));
    this.servers.push(server);
    server.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts
    await once(server, "listening"); // rejects on "error" (a port in use)
    this.ready = true;
    return server.address() as AddressInfo;
  }

  /** Stops taking requests, lets in-flight ones (streams included) finish until `deadlineMs`, then flushes and closes pipelines. */
  async drain(deadlineMs: number): Promise<{ unfinished: number }> {
    this.draining.abort();
    const servers = this.servers;
    const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const server of servers) server.closeIdleConnections();
    const deadline = new Promise<"deadline">((resolve) => setTimeout(resolve, deadlineMs, "deadline").unref());
    const outcome = await Promise.race([Promise.allSettled([...this.inFlight]).then(() => "done" as const), deadline]);
    const unfinished = outcome === "deadline" ? this.inFlight.size : 0;
    if (unfinished > 0) {
      this.options.log.warn({ unfinished }, "drain deadline reached; closing remaining connections");
      this.closing.abort(); // upgraded sockets are no HTTP connections: their endpoints close them (1001)
      for (const server of servers) server.closeAllConnections();
      await Promise.allSettled([...this.inFlight]);
    }
    // Connections whose last response finished during the drain are idle keep-alive sockets now:
    // server.close() would wait out their keep-alive timeout.
    for (const server of servers) server.closeIdleConnections();
    for (const socket of this.silent) socket.destroy();
    await closed;
    await this.records.written();
    await Promise.allSettled(this.table.pipelines.map((p) => p.close()));
    return { unfinished };
  }

  /** Resolves once every finished request's record reached its sinks. */
  recordsWritten(): Promise<void> {
    return this.records.written();
  }

  private track(work: Promise<void>, table: Set<Promise<void>>): Promise<void> {
    this.inFlight.add(work);
    table.add(work);
    return work.finally(() => void (this.inFlight.delete(work), table.delete(work)));
  }

  private async acceptRequest(
    pipeline: CompiledPipeline, route: RouteInfo, format: FormatTranslator, req: IncomingMessage, res: ServerResponse,
    params: Record<string, string>, rawQuery: string,
  ): Promise<void> {
    // One end per request for both ways its life stops: the client leaving, and the total time
    // budget (a plain timer cleared at the end, so no timer outlives its request).
    const end = new RequestEnd();
    res.on("close", () => { // `on`, not `once`: close comes once, and once()'s wrapper would be held per open request
      if (!res.writableFinished) end.abort(GatewayError.clientClosed());
    });
    const totalMs = pipeline.timeouts.totalMs;
    const budget = setTimeout(() => end.abort(GatewayError.totalTimeout(totalMs)), totalMs);
    const inbound = new InboundRequest((req.url ?? route.path).split("?", 1)[0]!, params, rawQuery, route.endpoint);
    const clientId = req.headers["x-request-id"];
    const x = newExchange({
      id: res.getHeader("x-switchyard-request-id") as string, clientRequestId: typeof clientId === "string" && REQUEST_ID.test(clientId) ? clientId : undefined, pipelineId: pipeline.id, format, headers: req.headers, inbound, end,
      // A route taking every method shows each request's own (for `method` conditions, records).
      route: route.method === ANY_METHOD ? { ...route, method: req.method ?? "GET" } : route,
    });
    if (this.draining.signal.aborted) res.setHeader("connection", "close");
    try {
      await this.readBodyThenRun(pipeline, route, format, x, req, res);
    } finally {
      clearTimeout(budget);
    }
  }

  private async readBodyThenRun(pipeline: CompiledPipeline, route: RouteInfo, format: FormatTranslator, x: Exchange, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (route.jsonBody) {
      const maxBytes = pipeline.limits.maxBodyBytes;
      try {
        // A declared length past the limit is refused before a byte of the body is read.
        if (Number(req.headers["content-length"]) > maxBytes) throw GatewayError.bodyTooLarge(maxBytes);
        const bytes = await readBody(req, { maxBytes, overLimit: () => GatewayError.bodyTooLarge(maxBytes), closedEarly: GatewayError.clientClosed });
        x.body = parseJsonObject(bytes);
        x.received = { bytes, body: x.body };
        ({ model: x.model, stream: x.stream } = format.peek(x.body, x.inbound));
        if (x.model !== undefined && !MODEL_NAME.test(x.model)) throw GatewayError.invalidRequest("model must be 1 to 256 printable characters with no . or .. segment", "model", "invalid_model");
      } catch (err) {
        return writeError(x, res, err instanceof GatewayError ? err : GatewayError.invalidRequest("the request body could not be read", undefined, "bad_body"));
      }
    }
    // Returned, not awaited: a finished frame holds nothing for the length of a stream (the same for every tail call on a request's way).
    return runExchange(pipeline, x, req, res, this.records, this.draining.signal);
  }

  /** A request no route takes, in the format of the route sharing the longest prefix with its path. */
  private refuse(req: IncomingMessage, res: ServerResponse, path: string, err: GatewayError): void {
    const format = this.table.formatNear(path);
    const rendered = format ? format.renderError(err) : { status: err.status, body: { error: { message: err.message, type: err.type, code: err.code } } };
    res.writeHead(rendered.status, { "content-type": "application/json" }).end(JSON.stringify(rendered.body));
    req.resume();
  }
}

/** The request as routed; its query string is parsed only when a step reads it (most never do). */
class InboundRequest implements InboundRequestInfo {
  private parsed: InboundRequestInfo["query"] | undefined;
  constructor(readonly path: string, readonly params: Record<string, string>, private readonly rawQuery: string, readonly endpoint: string) {}
  get query(): InboundRequestInfo["query"] {
    return (this.parsed ??= parseQuery(this.rawQuery));
  }
}

/** Translators and steps walk bodies recursively: past this depth a stack overflow would be a 500. */
const MAX_BODY_DEPTH = 128;
/** An upper bound on the keys written (a string may hold `":` too), so the exact scan runs only past it. */
const KEY_COLON = /"\s*:/g;

/** The body as steps read it; refused where steps and an upstream given its bytes could read it differently (issue 11, items 9, 11, 14). */
function parseJsonObject(raw: Buffer): Record<string, unknown> {
  const text = raw.toString("utf8");
  let value: unknown;
  try {
    // Checked, not left to toString: invalid UTF-8 would become U+FFFD, the user's text changed without a word.
    if (isUtf8(raw)) value = JSON.parse(text);
  } catch {} // refused just below, as any other unreadable body
  if (value === undefined) throw GatewayError.invalidRequest("the request body is not valid JSON in UTF-8", undefined, "invalid_json");
  if (!isObject(value)) throw GatewayError.invalidRequest("the request body must be a JSON object", undefined, "invalid_body");
  // JSON.parse keeps the last of two equal keys; an upstream given the client's bytes may take the first.
  const parsed = keysParsed(value);
  if (parsed !== text.match(KEY_COLON)?.length && parsed !== keysWritten(raw)) {
    throw GatewayError.invalidRequest("the request body has a key written twice in one object", undefined, "duplicate_key");
  }
  return value;
}

/** Keys of every object in the parsed body; walked with a stack of its own, so any depth is measured safely. */
function keysParsed(root: object): number {
  let keys = 0;
  for (const stack: [unknown, number][] = [[root, 1]]; stack.length > 0; ) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_BODY_DEPTH) throw GatewayError.invalidRequest(`the request body nests deeper than ${MAX_BODY_DEPTH} levels`, undefined, "body_too_deep");
    const children = Array.isArray(node) ? node : Object.values(node as object);
    keys += Array.isArray(node) ? 0 : children.length;
    for (const child of children) if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
  }
  return keys;
}

/** Colons outside strings, one per key written; bytes, since `"`, `\\` and `:` never occur inside a UTF-8 sequence. */
function keysWritten(raw: Buffer): number {
  let keys = 0;
  for (let i = 0, inString = false; i < raw.length; i++) {
    const c = raw[i];
    if (c === 0x5c && inString) i++; // a backslash escapes the next character
    else if (c === 0x22) inString = !inString;
    else if (c === 0x3a && !inString) keys++;
  }
  return keys;
}
