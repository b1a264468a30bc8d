/**
 * A gateway in front of scriptable local OpenAI upstreams, for fault-injection tests: one
 * provider-openai backend per upstream (ids a, b, c… in file order), a pipeline the test tunes,
 * records in a JSONL file, and an official `openai` client on an undici Agent of its own whose
 * idle sockets close quickly, so the gateway's open connections can be counted after the runs.
 */
import OpenAI from "openai";
import { Agent, fetch as undiciFetch } from "undici";
import { startGateway, type TestGateway } from "./gateway.js";
import { waitForRecord } from "./records.js";
import { waitUntil } from "./wait.js";

export interface FaultGatewayOptions {
  /** Base URLs, one backend each, ids `a`, `b`, `c`… */
  upstreams: string[];
  /** Merged into every backend's provider-openai config. */
  backendConfig?: Record<string, unknown>;
  /** Per backend id, merged over backendConfig. */
  backendConfigs?: Record<string, Record<string, unknown>>;
  /** Per backend id: client model -> backend model. */
  modelMaps?: Record<string, Record<string, string>>;
  /** Steps before the selector (health-breaker…). */
  before?: unknown[];
  /** The plan step; default select-fallback over a, b, c… */
  selector?: unknown;
  /** Steps right after the selector (health-breaker after select-fallback, whose fixed order would undo it). */
  after?: unknown[];
  attempts?: Record<string, unknown>;
  timeouts?: Record<string, unknown>;
  stream?: Record<string, unknown>;
  /** Extra files next to the pipeline (pricing…). */
  files?: Record<string, unknown>;
}

export interface FaultGateway extends Omit<TestGateway, "close"> {
  /** Drains the gateway (2 s) and closes the client's agent; says how many requests were still unfinished. */
  close(): Promise<{ unfinished: number }>;
  client: OpenAI;
  recordsFile: string;
  /** Sockets the gateway's HTTP server has open right now. */
  openConnections(): Promise<number>;
  /** Resolves once the gateway has `count` sockets open. */
  waitForGatewayConnections(count: number, timeoutMs?: number): Promise<void>;
  /** The record of request `id`, once written. */
  record(id: string): Promise<any>;
  /** A raw POST with undici, for status and header checks the SDK would hide. */
  post(body: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>;
}

export const MODEL = "gpt-test";
export const backendIds = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i));

export async function startFaultGateway(options: FaultGatewayOptions): Promise<FaultGateway> {
  const ids = backendIds(options.upstreams.length);
  const backends = Object.fromEntries(ids.map((id, i) => [id, {
    use: "provider-openai",
    models: [MODEL],
    ...(options.modelMaps?.[id] ? { modelMap: options.modelMaps[id] } : {}),
    config: {
      baseUrl: options.upstreams[i],
      apiKey: `sk-test-backend-${id}-0123456789`,
      formats: ["openai-chat"],
      // Short, so that every idle upstream socket is gone soon after the runs: what stays open leaked.
      keepAliveTimeoutMs: 100,
      keepAliveMaxTimeoutMs: 100,
      ...options.backendConfig,
      ...options.backendConfigs?.[id],
    },
  }]));
  const pipeline = {
    id: "faults",
    routes: [{ method: "POST", path: "/v1/chat/completions", format: "openai-chat" }],
    backends,
    steps: [
      ...(options.before ?? []),
      options.selector ?? { use: "select-fallback", config: { order: ids } },
      ...(options.after ?? []),
      { use: "stream-sse", config: { keepAliveMs: 0, ...options.stream } },
      { use: "record-jsonl", config: { path: "./records.jsonl", batchSize: 1, flushIntervalMs: 5 } },
    ],
    attempts: { maxAttempts: 3, backoffMs: 1, maxBackoffMs: 5, ...options.attempts },
    timeouts: options.timeouts ?? {},
  };
  const gateway = await startGateway({ "faults.pipeline.json": pipeline, ...options.files });
  const agent = new Agent({ keepAliveTimeout: 100, keepAliveMaxTimeout: 100 });
  const client = new OpenAI({
    baseURL: `${gateway.url}/v1`,
    apiKey: "client-key",
    maxRetries: 0,
    timeout: 20_000,
    fetch: ((url: string, init: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent } as never)) as never,
  });
  const httpServer = () => (gateway.server as unknown as { servers: import("node:http").Server[] }).servers[0]!;
  const openConnections = () => new Promise<number>((resolve, reject) => httpServer().getConnections((err, n) => (err ? reject(err) : resolve(n))));
  const recordsFile = `${gateway.dir}/records.jsonl`;
  return {
    ...gateway,
    client,
    recordsFile,
    openConnections,
    async waitForGatewayConnections(count, timeoutMs) {
      let n = await openConnections();
      await waitUntil(async () => (n = await openConnections()) === count, () => `gateway: ${n} sockets open, expected ${count}`, { timeoutMs });
    },
    record: (id) => waitForRecord(recordsFile, id),
    async post(body) {
      const res = await undiciFetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        dispatcher: agent,
      });
      return { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() };
    },
    async close() {
      const drained = await gateway.server.drain(2_000);
      await agent.close();
      return drained;
    },
  };
}

/** A chat request for MODEL, plain or streamed. */
export function ask(): { model: string; messages: { role: "user"; content: string }[] };
export function ask(stream: true): { model: string; messages: { role: "user"; content: string }[]; stream: true };
export function ask(stream: boolean): { model: string; messages: { role: "user"; content: string }[]; stream?: true };
export function ask(stream = false) {
  return { model: MODEL, messages: [{ role: "user" as const, content: "hello" }], ...(stream ? { stream: true as const } : {}) };
}

export interface SilentServer {
  /** An https base URL: the TLS handshake never completes, so connecting times out. */
  readonly url: string;
  /** Sockets open right now. */
  readonly connections: number;
  /** Sockets accepted since start. */
  readonly accepted: number;
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP server that accepts and never says a word. Behind an https:// base URL the TLS handshake
 * hangs, which is how a connect timeout shows on loopback (the kernel completes TCP handshakes
 * itself, and no unroutable address may be used here).
 */
export async function startSilentServer(): Promise<SilentServer> {
  const { createServer } = await import("node:net");
  const sockets = new Set<import("node:net").Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    // Read (and drop) the client's hello: a socket that is not read never sees the peer's FIN.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as import("node:net").AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}/v1`,
    get connections() {
      return sockets.size;
    },
    get accepted() {
      return accepted;
    },
    waitForConnections(count, timeoutMs) {
      return waitUntil(() => sockets.size === count, () => `silent server: ${sockets.size} sockets open, expected ${count}`, { timeoutMs, intervalMs: 5 });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
