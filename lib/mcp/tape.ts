/**
 * Where the mcp-gateway step and a tape step meet (`hooks.query.for("mcp-tape")`): when a
 * session starts, the gateway asks for a tape to write its frames to; the first step that keeps
 * tapes answers with one. A tape is JSONL, one frame a line, in the order the gateway saw them:
 * `{"t": epoch ms, "session": id, "from": "client" | "server", "frame": <the JSON-RPC message>}`.
 * `switchyard mcp replay` reads the same lines back.
 */
import type { AsyncSeriesBailHook } from "tapable";
import type { Exchange, PipelineHooks } from "../../core/index.js";

export interface TapeQuestion {
  sessionId: string;
}

export interface TapeLine {
  t: number;
  session: string;
  from: "client" | "server";
  frame: unknown;
}

export interface SessionTape {
  write(from: TapeLine["from"], frame: unknown): void;
  /** The session ended: the rest of its frames reach the file, and the file is closed. */
  close(): Promise<void>;
}

export function mcpTapes(hooks: PipelineHooks): AsyncSeriesBailHook<[TapeQuestion, Exchange], SessionTape | undefined> {
  return hooks.query.for("mcp-tape") as unknown as AsyncSeriesBailHook<[TapeQuestion, Exchange], SessionTape | undefined>;
}
