/**
 * The koa + @koa/router shell: mounts each pipeline's routes, answers probes, reads bodies under
 * the size limit, and drains on shutdown. It knows nothing of formats or plugins: a route hands
 * the request to its pipeline and the pipeline's format translator renders whatever goes wrong.
 */
import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { METHODS, createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Koa from "koa";
import Router from "@koa/router";
import { GatewayError } from "../contract/errors.js";
import { isObject } from "../contract/json-object.js";
import { canonicalPath } from "../contract/request-path.js";
import type { Exchange, RouteInfo } from "../contract/exchange.js";
import type { FormatTranslator } from "../contract/format.js";
import type { Logger } from "../contract/log.js";
import type { CompiledPipeline } from "../engine/compile.js";
import { newExchange } from "../engine/new-exchange.js";
import { readBody } from "../engine/read-body.js";
import { RecordQueue } from "../engine/records.js";
import { writeError } from "../engine/respond.js";
import { runExchange } from "../engine/run-exchange.js";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A model name is kept, recorded and may become part of a backend's URL: bounded, printable, no dot segment (issue 11, items 3, 5). */
const MODEL_NAME = /^(?=[^\x00-\x1f\x7f]{1,256}$)(?!(.*\/)?\.\.?(\/|$))/;
/** RouteInfo.method of a prefix route that names no method: it takes every one. */
const ANY_METHOD = "*";
/** A route path with no parameters or patterns: matched by string equality. */
const LITERAL_PATH = /^\/[A-Za-z0-9._~\/-]*$/;

export class GatewayServer {
  private readonly app = new Koa();
  private server: Server | undefined;
  private ready = false;
  private draining = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly records = new RecordQueue();
  /** For errors on paths no route claims: the format of the route sharing the longest prefix. */
  private readonly fallbackFormats: { path: string; pipeline: CompiledPipeline; format: FormatTranslator }[] = [];

  /** `createListener`: the HTTP server to serve on, with its socket limits (timeouts, connection caps); node's plain one by default. */
  constructor(private readonly pipelines: readonly CompiledPipeline[], private readonly options: { log: Logger; createListener?: (handler: RequestListener) => Server }) {
    const router = new Router();
    router.get("/healthz", (ctx) => void (ctx.body = { status: "ok" }));
    router.get("/readyz", (ctx) => {
      const ok = this.ready && !this.draining;
      ctx.status = ok ? 200 : 503;
      // A store outage does not make the gateway unready (plugins serve by their onUnavailable
      // policy), but it is said here so operators see it.
      const stores = Object.fromEntries(pipelines.map((p) => [p.id, p.store.status()]));
      ctx.body = { status: ok ? "ready" : this.draining ? "draining" : "loading", stores };
    });
    // Routes whose path is a plain string are found by one map lookup, without @koa/router's
    // per-request matching and middleware compose. Anything else (a different case, a trailing
    // slash, a path with parameters, prefixes) goes on to the router, which decides as before.
    const exactRoutes = new Map<string, Map<string, (ctx: Koa.Context) => Promise<void>>>();
    // The first matching route takes a request: exact routes first, then prefixes, longest first.
    const routes = pipelines.flatMap((pipeline) => pipeline.routes.map((route) => ({ pipeline, route })));
    const prefixes = routes.filter(({ route }) => route.prefix).sort((a, b) => prefixOf(b.route.path).length - prefixOf(a.route.path).length);
    for (const { pipeline, route } of [...routes.filter(({ route }) => !route.prefix), ...prefixes]) {
      const format = pipeline.formats.get(route.format)!;
      this.fallbackFormats.push({ path: route.path, pipeline, format });
      const methods = route.method === ANY_METHOD ? METHODS : [route.method];
      const handle = (ctx: Koa.Context) => {
        ctx.respond = false; // the pipeline writes the raw response (streams included)
        return this.track(this.acceptRequest(pipeline, route, format, ctx.req, ctx.res, (ctx.params ?? {}) as Record<string, string>, ctx.query));
      };
      router.register(route.prefix ? prefixPattern(route.path) : route.path, methods, handle);
      if (!route.prefix && LITERAL_PATH.test(route.path)) {
        const byPath = exactRoutes.get(route.method) ?? new Map<string, (ctx: Koa.Context) => Promise<void>>();
        exactRoutes.set(route.method, byPath);
        if (!byPath.has(route.path)) byPath.set(route.path, handle); // the first route registered wins, as in the router
      }
    }
    // Straight on node's req/res rather than koa's header delegates: this runs for every request.
    this.app.use((ctx, next) => {
      const id = randomUUID(); // never the client's: records need a unique id (issue 11, item 13)
      ctx.state.requestId = id;
      ctx.res.setHeader("x-switchyard-request-id", id);
      // Everything after this (router, conditions, records, proxies) sees the canonical path only.
      const url = ctx.req.url ?? "/";
      const path = canonicalPath(url);
      ctx.respond = path !== undefined;
      if (path === undefined) return this.refuse(ctx.req, ctx.res, url, GatewayError.invalidRequest("the request path has an escaped slash or is not a path", undefined, "invalid_path"));
      const queryAt = url.indexOf("?");
      ctx.req.url = queryAt < 0 ? path : path + url.slice(queryAt);
      const handle = exactRoutes.get(ctx.req.method ?? "")?.get(path);
      return handle ? handle(ctx) : next();
    });
    this.app.use(router.routes());
    this.app.use((ctx) => {
      if (ctx.respond === false || ctx.status !== 404 || ctx.body !== undefined) return;
      ctx.respond = false;
      this.refuse(ctx.req, ctx.res, ctx.path, new GatewayError({ status: 404, type: "not_found", code: "unknown_route", message: `no route for ${ctx.req.method} ${ctx.path}` }));
    });
    this.app.on("error", (err: unknown) => options.log.warn({ err: String(err) }, "koa error"));
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    const server = (this.options.createListener ?? createServer)(this.app.callback()).listen(port, host);
    this.server = server;
    server.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts
    await once(server, "listening"); // rejects on "error" (a port in use)
    this.ready = true;
    return server.address() as AddressInfo;
  }

  /** Stops taking requests, lets in-flight ones (streams included) finish until `deadlineMs`, then flushes and closes pipelines. */
  async drain(deadlineMs: number): Promise<{ unfinished: number }> {
    this.draining = true;
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server?.closeIdleConnections();
    const deadline = new Promise<"deadline">((resolve) => setTimeout(resolve, deadlineMs, "deadline").unref());
    const outcome = await Promise.race([Promise.allSettled([...this.inFlight]).then(() => "done" as const), deadline]);
    const unfinished = outcome === "deadline" ? this.inFlight.size : 0;
    if (unfinished > 0) {
      this.options.log.warn({ unfinished }, "drain deadline reached; closing remaining connections");
      server?.closeAllConnections();
      await Promise.allSettled([...this.inFlight]);
    }
    // Connections whose last response finished during the drain are idle keep-alive sockets now:
    // server.close() would wait out their keep-alive timeout.
    server?.closeIdleConnections();
    await closed;
    await this.records.written();
    await Promise.allSettled(this.pipelines.map((p) => p.close()));
    return { unfinished };
  }

  /** Resolves once every finished request's record reached its sinks. */
  recordsWritten(): Promise<void> {
    return this.records.written();
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  private async acceptRequest(
    pipeline: CompiledPipeline, route: RouteInfo, format: FormatTranslator, req: IncomingMessage, res: ServerResponse,
    params: Record<string, string>, query: Record<string, string | string[] | undefined>,
  ): Promise<void> {
    // One controller per request for both ends of its life: the client leaving, and the total
    // time budget (a plain timer cleared at the end, so no timer outlives its request).
    const controller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) controller.abort(GatewayError.clientClosed());
    });
    const totalMs = pipeline.timeouts.totalMs;
    const budget = setTimeout(() => controller.abort(GatewayError.totalTimeout(totalMs)), totalMs);
    const inbound = { path: (req.url ?? route.path).split("?", 1)[0]!, params, query };
    const clientId = req.headers["x-request-id"];
    const x = newExchange({
      id: res.getHeader("x-switchyard-request-id") as string, clientRequestId: typeof clientId === "string" && REQUEST_ID.test(clientId) ? clientId : undefined, pipelineId: pipeline.id, format, headers: req.headers, inbound, signal: controller.signal,
      // A route taking every method shows each request's own (for `method` conditions, records).
      route: route.method === ANY_METHOD ? { ...route, method: req.method ?? "GET" } : route,
    });
    if (this.draining) res.setHeader("connection", "close");
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
    await runExchange(pipeline, x, req, res, this.records);
  }

  /** A request no route takes, in the format of the route sharing the longest prefix with its path. */
  private refuse(req: IncomingMessage, res: ServerResponse, path: string, err: GatewayError): void {
    type Candidate = (typeof this.fallbackFormats)[number] | undefined;
    const best = this.fallbackFormats.reduce<Candidate>((acc, r) => (commonPrefix(r.path, path) > (acc ? commonPrefix(acc.path, path) : -1) ? r : acc), undefined);
    const rendered = best ? best.format.renderError(err) : { status: err.status, body: { error: { message: err.message, type: err.type, code: err.code } } };
    res.writeHead(rendered.status, { "content-type": "application/json" }).end(JSON.stringify(rendered.body));
    req.resume();
  }
}

/** An http route's path without trailing slashes: `/api/` and `/api` are the same prefix. */
function prefixOf(path: string): string {
  return path.replace(/\/+$/, "");
}

/** The prefix and everything below it, in path-to-regexp v8 syntax: `/api` -> `/api{/*rest}`. */
function prefixPattern(path: string): string {
  const prefix = prefixOf(path);
  return prefix === "" ? "/{*rest}" : `${prefix}{/*rest}`;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
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
