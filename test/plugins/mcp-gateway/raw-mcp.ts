/**
 * MCP over plain fetch, for what the SDK client hides: exact status codes and error bodies, and
 * an SSE stream the test cuts and resumes itself with Last-Event-ID.
 */
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";

export const ACCEPT_BOTH = "application/json, text/event-stream";

export async function rawPost(url: string, body: string | unknown, headers: Record<string, string>): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: ACCEPT_BOTH, "mcp-protocol-version": LATEST_PROTOCOL_VERSION, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export function initializeMessage(id: number | string = 1, capabilities: Record<string, unknown> = {}): unknown {
  return { jsonrpc: "2.0", id, method: "initialize", params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities, clientInfo: { name: "raw", version: "1" } } };
}

/** Opens a session by hand: initialize (declaring `capabilities`), then the initialized notification. */
export async function rawSession(url: string, auth: Record<string, string>, capabilities: Record<string, unknown> = {}): Promise<string> {
  const init = await rawPost(url, initializeMessage(1, capabilities), auth);
  const session = init.headers.get("mcp-session-id");
  if (init.status !== 200 || !session) throw new Error(`initialize answered ${init.status}: ${init.text}`);
  const initialized = await rawPost(url, { jsonrpc: "2.0", method: "notifications/initialized" }, { ...auth, "mcp-session-id": session });
  if (initialized.status !== 202) throw new Error(`initialized answered ${initialized.status}`);
  return session;
}

export interface SseEvent {
  id?: string;
  data: string;
}

/** An SSE response read event by event; `cut()` drops the connection as a network failure would. */
export class SseReader {
  private buffer = "";
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  private constructor(readonly status: number, body: ReadableStream<Uint8Array>, private readonly controller: AbortController) {
    this.reader = body.getReader();
  }

  static async open(url: string, headers: Record<string, string>): Promise<SseReader> {
    const controller = new AbortController();
    const res = await fetch(url, { method: "GET", headers: { accept: "text/event-stream", "mcp-protocol-version": LATEST_PROTOCOL_VERSION, ...headers }, signal: controller.signal });
    if (!res.body) throw new Error(`GET answered ${res.status} without a body`);
    return new SseReader(res.status, res.body, controller);
  }

  /** A POST whose SSE answer is read event by event (while the test answers what comes on it). */
  static async post(url: string, message: unknown, headers: Record<string, string>): Promise<SseReader> {
    const controller = new AbortController();
    const res = await fetch(url, {
      method: "POST", body: JSON.stringify(message), signal: controller.signal,
      headers: { "content-type": "application/json", accept: ACCEPT_BOTH, "mcp-protocol-version": LATEST_PROTOCOL_VERSION, ...headers },
    });
    if (!res.body) throw new Error(`POST answered ${res.status} without a body`);
    return new SseReader(res.status, res.body, controller);
  }

  /** The next event's JSON-RPC message, past events that carry none (the priming event). */
  async nextMessage(): Promise<any> {
    for (;;) {
      const event = await this.next();
      if (event.data !== "") return JSON.parse(event.data);
    }
  }

  /** Resolves once the server ended the stream (rejects if an event comes first). */
  async ended(): Promise<void> {
    const event = await this.next().catch((err: unknown) => (err instanceof Error && err.message === "the stream ended" ? undefined : Promise.reject(err)));
    if (event !== undefined) throw new Error(`expected the stream to end, got ${JSON.stringify(event)}`);
  }

  /** The next event that carries data (the SDK's priming event carries none, only an id; it is returned too). */
  async next(): Promise<SseEvent> {
    for (;;) {
      const end = this.buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event: SseEvent = { data: "" };
        for (const line of block.split("\n")) {
          if (line.startsWith("id:")) event.id = line.slice(3).trim();
          else if (line.startsWith("data:")) event.data += line.slice(5).trim();
        }
        if (event.id !== undefined || event.data !== "") return event;
        continue;
      }
      const { value, done } = await this.reader.read();
      if (done) throw new Error("the stream ended");
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  cut(): void {
    this.controller.abort();
  }
}
