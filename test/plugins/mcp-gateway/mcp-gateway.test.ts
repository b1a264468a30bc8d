import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { waitUntil, within } from "../../support/wait.js";
import { KEY, startMcpHarness, textOf, type McpHarness } from "./mcp-harness.js";
import { rawPost, rawSession, SseReader } from "./raw-mcp.js";

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

describe("mcp-gateway: resources, prompts, progress, cancellation, list_changed, resumption", () => {
  let h: McpHarness;
  beforeAll(async () => {
    h = await startMcpHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lists resources of both servers and reads each from its own server", async () => {
    const client = await h.connect();
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(["memo://local/greeting", "memo://remote/greeting"]));
    expect(resources.map((r) => r.name)).toEqual(expect.arrayContaining(["local__greeting", "remote__greeting"]));
    const read = await client.readResource({ uri: "memo://remote/greeting" });
    expect(read.contents[0]).toMatchObject({ text: "hello from remote" });
    // A URI only a template describes, never listed, read before any list of templates: found by
    // asking the servers for their templates.
    expect((await client.readResource({ uri: "memo://local/notes/7" })).contents[0]).toMatchObject({ text: "note 7 of local" });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.name)).toEqual(expect.arrayContaining(["local__note", "remote__note"]));
    await expect(client.readResource({ uri: "memo://nowhere/x" })).rejects.toMatchObject({ code: -32002 });
  });

  it("gets a prompt from the server its prefix names", async () => {
    const client = await h.connect();
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(["local__greet", "remote__greet"]));
    const prompt = await client.getPrompt({ name: "local__greet", arguments: { name: "Ada" } });
    expect(prompt.messages[0]?.content).toMatchObject({ type: "text", text: "local greets Ada" });
  });

  // Read off the wire rather than through the SDK client's onprogress: that client drops progress
  // that arrives in the same read as its response (it handles notifications a microtask late).
  it("passes progress notifications from both kinds of server to the caller, with the caller's token, before the result", async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const headers = { ...auth, "mcp-session-id": await rawSession(h.url, auth) };
    for (const server of ["local", "remote"]) {
      const call = { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: `${server}__count`, arguments: { steps: 3 }, _meta: { progressToken: "mine" } } };
      const reply = await rawPost(h.url, call, headers);
      expect(reply.headers.get("content-type")).toContain("text/event-stream");
      const messages = sseData(reply.text);
      expect(messages.map((m) => m.method ?? `result ${m.id}`)).toEqual(["notifications/progress", "notifications/progress", "notifications/progress", "result 7"]);
      expect(messages.slice(0, 3).map((m) => m.params)).toEqual([1, 2, 3].map((i) => ({ progressToken: "mine", progress: i, total: 3, message: `step ${i}` })));
      expect(textOf(messages[3].result)).toBe("counted 3");
    }
  });

  it("passes a client's cancellation on to the server running the call", async () => {
    const client = await h.connect();
    for (const server of ["local", "remote"]) {
      const controller = new AbortController();
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const call = client.callTool({ name: `${server}__wait`, arguments: {} }, undefined, { signal: controller.signal, onprogress: () => started() });
      await running;
      controller.abort("changed my mind");
      await expect(call).rejects.toThrow();
      await waitUntil(async () => textOf(await client.callTool({ name: `${server}__cancellations`, arguments: {} })) === "1", () => `${server} never saw the cancellation`);
    }
  });

  it("forwards notifications/tools/list_changed from an upstream to the session", async () => {
    const client = await h.connect();
    const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()));
    await client.listTools();
    const grown = textOf(await client.callTool({ name: "local__grow", arguments: {} }));
    await within(changed, "tools/list_changed");
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain(`local__${grown}`);
  });

  it("replays what a client missed while its SSE stream was cut, when it comes back with Last-Event-ID", async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const session = await rawSession(h.url, auth);
    const headers = { ...auth, "mcp-session-id": session };
    // The session must use the stdio server once for its notifications to reach it.
    expect((await rawPost(h.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, headers)).status).toBe(200);
    const stream = await SseReader.open(h.url, headers);
    expect(stream.status).toBe(200);
    const grow = async (id: number) => expect((await rawPost(h.url, { jsonrpc: "2.0", id, method: "tools/call", params: { name: "local__grow", arguments: {} } }, headers)).status).toBe(200);
    await grow(3);
    let last = await stream.next();
    while (!last.data.includes("list_changed")) last = await stream.next();
    stream.cut();
    await grow(4);
    await grow(5);
    const resumed = await SseReader.open(h.url, { ...headers, "last-event-id": last.id! });
    expect(resumed.status).toBe(200);
    const missed = [await resumed.next(), await resumed.next()];
    expect(missed.map((e) => JSON.parse(e.data).method)).toEqual(["notifications/tools/list_changed", "notifications/tools/list_changed"]);
    expect(new Set([last.id, ...missed.map((e) => e.id)]).size).toBe(3);
    resumed.cut();
  });

  it("reopens a dropped upstream stream with Last-Event-ID, so what the server sent meanwhile still reaches the client", async () => {
    const client = await h.connect();
    let changes = 0;
    let changed!: () => void;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changes += 1;
      changed?.();
    });
    const nextChange = () => new Promise<void>((resolve) => (changed = resolve));
    await client.listTools(); // opens this session's upstream session on the remote server, and its stream
    // A first event over the upstream stream gives the gateway's side a cursor to resume from.
    const first = nextChange();
    await client.callTool({ name: "remote__grow", arguments: {} });
    await within(first, "the first tools/list_changed");
    const release = h.remote.holdStreams();
    h.remote.cutStreams();
    const second = nextChange();
    // Sent while the gateway's upstream stream is down: the server keeps it for the replay.
    await client.callTool({ name: "remote__grow", arguments: {} });
    const resumedBefore = h.remote.stats.resumed;
    release();
    await within(second, "tools/list_changed replayed from the remote server");
    expect(h.remote.stats.resumed).toBeGreaterThan(resumedBefore);
    expect(changes).toBe(2);
  });
});

/** The JSON-RPC messages of an SSE body, in order. */
function sseData(text: string): any[] {
  return text.split("\n").filter((line) => line.startsWith("data:") && line.slice(5).trim() !== "").map((line) => JSON.parse(line.slice(5)));
}
