import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMcpHarness, textOf, type McpHarness } from "./mcp-harness.js";

describe("mcp-gateway in front of a stdio and an HTTP MCP server", () => {
  let h: McpHarness;
  beforeAll(async () => {
    h = await startMcpHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("initializes and lists the tools of both servers, prefixed by backend id", async () => {
    const client = await h.connect();
    expect(client.getServerVersion()?.name).toBe("switchyard");
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["local__echo", "remote__echo", "local__add", "remote__count"]));
  });

  it("calls a tool on each server", async () => {
    const client = await h.connect();
    expect(textOf(await client.callTool({ name: "local__echo", arguments: { text: "hi" } }))).toBe("local:hi");
    expect(textOf(await client.callTool({ name: "remote__echo", arguments: { text: "hi" } }))).toBe("remote:hi");
  });
});
