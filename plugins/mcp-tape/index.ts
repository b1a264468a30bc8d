/**
 * mcp-tape: a JSONL tape of every JSON-RPC frame of each MCP session (lib/mcp/tape.ts is where
 * it meets mcp-gateway), and `switchyard mcp replay` to send a tape to a server again.
 */
import { mkdir } from "node:fs/promises";
import { definePlugin } from "../../core/index.js";
import { mcpTapes } from "../../lib/mcp/tape.js";
import type { McpTapeConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { FileTape, PLUGIN } from "./file-tape.js";
import { createMcpCommand } from "./replay-command.js";

export default definePlugin<McpTapeConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Writes every JSON-RPC frame of each MCP session to a JSONL tape (one file per session); `switchyard mcp replay` plays a tape to a server.",
  configSchema,
  commands: { mcp: createMcpCommand() },
  async create(config, env) {
    const dir = env.resolvePath(config.dir);
    await mkdir(dir, { recursive: true });
    const log = env.log.child({ step: env.id, plugin: PLUGIN });
    return {
      apply(hooks) {
        mcpTapes(hooks).tapPromise(PLUGIN, async ({ sessionId }) => new FileTape(dir, sessionId, log));
      },
    };
  },
});
