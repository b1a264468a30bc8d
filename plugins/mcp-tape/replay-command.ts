/**
 * `switchyard mcp replay TAPE --to URL | --command CMD`: sends a tape's client frames, in order,
 * to an MCP server (over Streamable HTTP, or a command started on stdio), waits for each
 * request's answer and prints where it differs from the answer on the tape. Exit code 0 when
 * every answer matches, 1 when some differ, 2 when the tape or the command line is unusable.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { isObject, type PluginCommand } from "../../core/index.js";
import type { TapeLine } from "../../lib/mcp/tape.js";

export interface CommandOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const DESCRIPTION = `MCP tapes written by the mcp-tape step:
mcp replay TAPE (--to URL [--header "Name: value"]... | --command "CMD ARG...") [--timeout MS]
    send the tape's client frames to a server again, in order; print where its answers differ
    (exit 0: all match, 1: some differ). --command is split on spaces.`;

class UsageError extends Error {}

type Id = string | number;
interface RpcMessage {
  id?: Id;
  method?: string;
  result?: unknown;
  error?: unknown;
}

export function createMcpCommand(out: CommandOutput = process): PluginCommand {
  return {
    description: DESCRIPTION,
    async run(args) {
      try {
        if (args[0] !== "replay") throw new UsageError(`${args[0] === undefined ? "missing action" : `unknown action "${args[0]}"`}\nusage: switchyard ${DESCRIPTION}`);
        return await replay(args.slice(1), out);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        out.stderr.write(`switchyard mcp: ${err.message}\n`);
        return 2;
      }
    },
  };
}

async function replay(args: string[], out: CommandOutput): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { to: { type: "string" }, command: { type: "string" }, header: { type: "string", multiple: true }, timeout: { type: "string" } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError("give exactly one TAPE file");
  if ((values.to === undefined) === (values.command === undefined)) throw new UsageError("give one of --to URL or --command CMD");
  const timeoutMs = values.timeout === undefined ? 30_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout must be a positive number of milliseconds, not "${values.timeout}"`);
  const lines = await readTape(positionals[0]!);
  const recorded = new Map<Id, RpcMessage>();
  for (const line of lines) {
    const frame = line.frame as RpcMessage;
    if (line.from === "server" && frame.id !== undefined && frame.method === undefined) recorded.set(frame.id, frame);
  }
  const transport = values.to !== undefined ? httpTransport(values.to, values.header ?? []) : stdioTransport(values.command!);
  const waiting = new Map<Id, (answer: RpcMessage) => void>();
  transport.onmessage = (message) => {
    const m = message as RpcMessage;
    if (m.id !== undefined && m.method === undefined) waiting.get(m.id)?.(m);
  };
  await transport.start();
  let requests = 0;
  let differing = 0;
  try {
    for (const line of lines) {
      if (line.from !== "client") continue;
      const frame = line.frame as RpcMessage;
      // The client's answers to server requests belong to the session that asked: not replayed.
      if (frame.method === undefined) continue;
      if (frame.id === undefined) {
        await transport.send(frame as JSONRPCMessage);
        continue;
      }
      requests += 1;
      const answer = await new Promise<RpcMessage | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        waiting.set(frame.id!, (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        transport.send(frame as JSONRPCMessage).catch(() => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
      waiting.delete(frame.id);
      if (frame.method === "initialize" && transport instanceof StreamableHTTPClientTransport) {
        const version = (answer?.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
        if (typeof version === "string") transport.setProtocolVersion(version);
      }
      const expected = recorded.get(frame.id);
      const differences = answer === undefined ? [`no answer within ${timeoutMs} ms`] : expected === undefined ? [] : diff(outcome(expected), outcome(answer), "");
      if (differences.length > 0) {
        differing += 1;
        out.stdout.write(`#${frame.id} ${frame.method}:\n${differences.map((d) => `  ${d}`).join("\n")}\n`);
      }
    }
  } finally {
    await transport.close().catch(() => undefined);
  }
  out.stdout.write(`replayed ${requests} request(s): ${differing === 0 ? "every answer matches the tape" : `${differing} answer(s) differ`}\n`);
  return differing === 0 ? 0 : 1;
}

async function readTape(path: string): Promise<TapeLine[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return text.split("\n").flatMap((raw, i) => {
    if (raw.trim() === "") return [];
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      throw new UsageError(`${path}:${i + 1}: not JSON`);
    }
    if (!isObject(line) || (line.from !== "client" && line.from !== "server") || !isObject(line.frame)) throw new UsageError(`${path}:${i + 1}: not a tape line ({"from": "client" | "server", "frame": {...}})`);
    return [line as unknown as TapeLine];
  });
}

function httpTransport(url: string, headers: string[]): Transport {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UsageError(`--to must be a URL, not "${url}"`);
  }
  const set: Record<string, string> = {};
  for (const h of headers) {
    const at = h.indexOf(":");
    if (at <= 0) throw new UsageError(`--header must be "Name: value", not "${h}"`);
    set[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
  }
  return new StreamableHTTPClientTransport(target, { requestInit: { headers: set } });
}

function stdioTransport(command: string): Transport {
  const [program, ...args] = command.split(" ").filter((p) => p !== "");
  if (program === undefined) throw new UsageError("--command is empty");
  return new StdioClientTransport({ command: program, args, stderr: "inherit" });
}

/** What a response says, without its id. */
function outcome(message: RpcMessage): unknown {
  return message.error !== undefined ? { error: message.error } : { result: message.result };
}

const MAX_SHOWN = 200;
const show = (value: unknown) => {
  const text = value === undefined ? "(absent)" : JSON.stringify(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
};

/** Every leaf where `actual` differs from `expected`, as `path: tape X, now Y`. */
function diff(expected: unknown, actual: unknown, path: string): string[] {
  if (isObject(expected) && isObject(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    return [...keys].flatMap((k) => diff(expected[k], actual[k], `${path}/${k}`));
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    return expected.flatMap((item, i) => diff(item, actual[i], `${path}/${i}`));
  }
  return JSON.stringify(expected) === JSON.stringify(actual) ? [] : [`${path || "/"}: tape ${show(expected)}, now ${show(actual)}`];
}
