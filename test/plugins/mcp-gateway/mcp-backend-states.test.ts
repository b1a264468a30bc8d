import { afterAll, describe, expect, it } from "vitest";
import type { Provider } from "../../../core/index.js";
import { askBackendStates } from "../../../lib/health/report.js";
import mcpGateway from "../../../plugins/mcp-gateway/index.js";
import providerMcpStdio from "../../../plugins/provider-mcp-stdio/index.js";
import { createTestBackend, createTestProvider, createTestStep } from "../../../testkit/index.js";
import { waitUntil } from "../../support/wait.js";
import { STDIO_SERVER } from "./mcp-harness.js";

describe("mcp-gateway answers the backend-states question (metrics, admin API)", () => {
  const providers: Provider[] = [];
  afterAll(async () => {
    await Promise.allSettled(providers.map((p) => p.close()));
  });

  it("reports each MCP server up or down, with why", async () => {
    const working = await createTestProvider(providerMcpStdio, { command: process.execPath, args: [STDIO_SERVER] }, { id: "working" });
    const broken = await createTestProvider(providerMcpStdio, { command: process.execPath, args: ["-e", "process.exit(3)"], restartInitialDelayMs: 60_000 }, { id: "broken" });
    providers.push(working, broken);
    const backends = new Map([["working", createTestBackend("working", working)], ["broken", createTestBackend("broken", broken)]]);
    const { hooks, instance } = await createTestStep(mcpGateway, {}, { backends });
    try {
      await waitUntil(async () => {
        const states = await askBackendStates(hooks);
        return states.get("working")?.mcp?.up === true && states.get("broken")?.mcp?.reason?.includes("failed to start") === true;
      }, () => "the servers never settled");
      const states = await askBackendStates(hooks);
      expect(states.get("working")?.mcp).toEqual({ up: true, leftOutOfLists: 0 });
      expect(states.get("broken")?.mcp).toMatchObject({ up: false, leftOutOfLists: 0 });
    } finally {
      await instance.close?.();
    }
  });
});
