import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { readWholeRecords } from "../../support/records.js";
import { waitUntil } from "../../support/wait.js";
import { KEY, OTHER_KEY, startMcpHarness, textOf, type McpHarness } from "./mcp-harness.js";

/** The gateway's records of JSON-RPC calls (the HTTP requests' own records have no `mcp`). */
async function callRecords(h: McpHarness, match: (r: any) => boolean, count = 1): Promise<any[]> {
  let found: any[] = [];
  await waitUntil(async () => {
    found = (await readWholeRecords(h.records)).records.filter((r) => r.mcp !== undefined && match(r));
    return found.length >= count;
  }, () => `${found.length} matching call records`);
  return found;
}

describe("mcp-gateway policy: access rules, when-gated steps, records", () => {
  let h: McpHarness;
  beforeAll(async () => {
    h = await startMcpHarness({
      gateway: { access: [{ keys: ["bob"], deny: ["local__*"] }, { tenants: ["globex"], allow: ["local__*", "remote__echo", "remote__add"] }], recordPayloads: true },
      steps: [
        { use: "guard-pii", when: { body: { pointer: "/method", equals: "tools/call" } }, config: { fields: ["params"], kinds: ["email"] } },
        { use: "ratelimit", when: { body: { pointer: "/params/name", equals: "remote__add" } }, config: { rules: [{ id: "adds", by: "key", requests: { limit: 2, window: "1h" } }] } },
      ],
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("leaves a denied tool out of the caller's tools/list, answers a call to it with a JSON-RPC error, and records it", async () => {
    const bob = await h.connect(OTHER_KEY);
    const names = (await bob.listTools()).tools.map((t) => t.name);
    expect(names.filter((n) => n.startsWith("local__"))).toEqual([]);
    expect(names.sort()).toEqual(["remote__add", "remote__echo"]);
    const denied = bob.callTool({ name: "local__echo", arguments: { text: "x" } });
    await expect(denied).rejects.toBeInstanceOf(McpError);
    await expect(denied).rejects.toMatchObject({ message: expect.stringContaining('may not use tool "local__echo"'), data: { code: "tool_not_allowed", status: 403, server: "local" } });
    const [record] = await callRecords(h, (r) => r.keyId === "bob" && r.mcp.tool === "local__echo");
    expect(record).toMatchObject({ status: 403, tenant: "globex", backend: "local", format: "mcp", error: { code: "tool_not_allowed" }, mcp: { method: "tools/call", server: "local", errorCode: -32000 } });
    // The other key is not bound by bob's rules.
    const alice = await h.connect(KEY);
    expect(textOf(await alice.callTool({ name: "local__echo", arguments: { text: "x" } }))).toBe("local:x");
  });

  it("records each call with method, tool, server, latency, status and sizes; arguments only because this step opts in, after guard-pii", async () => {
    const alice = await h.connect(KEY);
    const result = await alice.callTool({ name: "remote__echo", arguments: { text: "write to ada@example.com" } });
    expect(textOf(result)).toBe("remote:write to [REDACTED:EMAIL]");
    const [record] = await callRecords(h, (r) => r.mcp.tool === "remote__echo" && r.keyId === "alice");
    expect(record).toMatchObject({ status: 200, backend: "remote", tenant: "acme", mcp: { method: "tools/call", server: "remote", arguments: { text: "write to [REDACTED:EMAIL]" } } });
    expect(record.mcp.requestBytes).toBeGreaterThan(0);
    expect(record.mcp.responseBytes).toBeGreaterThan(0);
    expect(record.latencyMs).toBeGreaterThanOrEqual(0);
    expect(record.notes).toEqual(["guard-pii: redacted email=1"]);
    expect(record.mcp.result).toMatchObject({ content: [{ text: "remote:write to [REDACTED:EMAIL]" }] });
    await alice.listTools();
    const [list] = await callRecords(h, (r) => r.mcp.method === "tools/list" && r.keyId === "alice");
    expect(list).toMatchObject({ status: 200, mcp: { method: "tools/list" } });
    expect(list.mcp.tool).toBeUndefined();
  });

  it("counts a rate limit per tool call, on the tool its when names", async () => {
    const alice = await h.connect(KEY);
    for (let i = 0; i < 2; i++) expect(textOf(await alice.callTool({ name: "remote__add", arguments: { a: 1, b: i } }))).toBe(String(1 + i));
    // Other tools and other methods are not counted.
    expect(textOf(await alice.callTool({ name: "remote__echo", arguments: { text: "free" } }))).toBe("remote:free");
    const limited = alice.callTool({ name: "remote__add", arguments: { a: 1, b: 2 } });
    await expect(limited).rejects.toMatchObject({ data: { status: 429, type: "rate_limit" } });
    await callRecords(h, (r) => r.mcp.tool === "remote__add" && r.status === 429);
  });
});
