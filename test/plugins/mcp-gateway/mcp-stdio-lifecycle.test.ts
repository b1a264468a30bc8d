import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { waitUntil } from "../../support/wait.js";
import { startMcpHarness, textOf, type McpHarness } from "./mcp-harness.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("provider-mcp-stdio: one long-lived subprocess", () => {
  let h: McpHarness;
  beforeAll(async () => {
    h = await startMcpHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("serves 50 sessions × 20 calls with exactly one subprocess", { timeout: 180_000 }, async () => {
    const sessions = await Promise.all(Array.from({ length: 50 }, () => h.connect()));
    await Promise.all(sessions.map(async (client, s) => {
      for (let i = 0; i < 20; i++) {
        expect(textOf(await client.callTool({ name: "local__add", arguments: { a: s, b: i } }))).toBe(String(s + i));
      }
    }));
    expect(await h.spawnedPids()).toHaveLength(1);
    await Promise.all(sessions.map((c) => c.close()));
  });

  it("starts the server again when it is killed mid-session; the session's next call succeeds", async () => {
    const client = await h.connect();
    const pid = Number(textOf(await client.callTool({ name: "local__pid", arguments: {} })));
    expect(await h.spawnedPids()).toEqual([pid]);
    process.kill(pid, "SIGKILL");
    await waitUntil(() => !alive(pid), () => `process ${pid} still alive`);
    expect(textOf(await client.callTool({ name: "local__echo", arguments: { text: "again" } }))).toBe("local:again");
    const pids = await h.spawnedPids();
    expect(pids).toHaveLength(2);
    expect(Number(textOf(await client.callTool({ name: "local__pid", arguments: {} })))).toBe(pids[1]);
  });

  it("stops the subprocess when the gateway drains", async () => {
    const pids = await h.spawnedPids();
    const current = pids[pids.length - 1]!;
    expect(alive(current)).toBe(true);
    await h.close();
    await waitUntil(() => !alive(current), () => `process ${current} outlived the gateway`);
  });
});

describe("mcp-gateway with a server that is down", () => {
  let h: McpHarness;
  beforeAll(async () => {
    h = await startMcpHarness({
      backends: { broken: { use: "provider-mcp-stdio", config: { command: process.execPath, args: ["-e", "process.exit(3)"], restartInitialDelayMs: 60_000, waitForRestartMs: 0 } } },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("leaves its tools out of tools/list and names it in the result's _meta", async () => {
    const client = await h.connect();
    const listed = await client.listTools();
    expect(listed.tools.some((t) => t.name.startsWith("broken__"))).toBe(false);
    expect(listed.tools.map((t) => t.name)).toContain("local__echo");
    expect(listed._meta).toEqual({ "switchyard.dev/unavailable": ["broken"] });
  });

  it("answers a tools/call to it with a JSON-RPC error naming the server", async () => {
    const client = await h.connect();
    const call = client.callTool({ name: "broken__anything", arguments: {} });
    await expect(call).rejects.toBeInstanceOf(McpError);
    await expect(call).rejects.toMatchObject({ message: expect.stringContaining("MCP server broken is unavailable"), data: { server: "broken", code: "mcp_server_down", status: 503 } });
  });

  it("leaves a remote server that went away out of the list too", async () => {
    await h.remote.close();
    const client = await h.connect();
    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name)).toContain("local__echo");
    expect(listed._meta?.["switchyard.dev/unavailable"]).toEqual(expect.arrayContaining(["broken", "remote"]));
  });
});
