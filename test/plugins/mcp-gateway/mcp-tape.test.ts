import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { createMcpCommand } from "../../../plugins/mcp-tape/replay-command.js";
import { waitUntil } from "../../support/wait.js";
import { KEY, STDIO_SERVER, startMcpHarness, textOf, type McpHarness } from "./mcp-harness.js";

function capture() {
  const text = { stdout: "", stderr: "" };
  return { text, out: { stdout: { write: (t: string) => (text.stdout += t) }, stderr: { write: (t: string) => (text.stderr += t) } } };
}

describe("mcp-tape and switchyard mcp replay", () => {
  let h: McpHarness;
  let tape: string;
  beforeAll(async () => {
    h = await startMcpHarness({ steps: [{ use: "mcp-tape", config: { dir: "tapes" } }] });
    const client = await h.connect();
    expect(textOf(await client.callTool({ name: "local__echo", arguments: { text: "taped" } }))).toBe("local:taped");
    expect(textOf(await client.callTool({ name: "remote__add", arguments: { a: 20, b: 22 } }))).toBe("42");
    const dir = join(h.gateway.dir, "tapes");
    await waitUntil(async () => {
      const files = await readdir(dir);
      if (files.length !== 1) return false;
      tape = join(dir, files[0]!);
      return (await readFile(tape, "utf8")).includes('"42"');
    }, () => "the tape never held the second call's answer");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("writes every JSON-RPC frame of the session, both ways, in order", async () => {
    const lines = (await readFile(tape, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    const frames = lines.map((l) => `${l.from} ${l.frame.method ?? `answer ${l.frame.id}`}`);
    expect(frames).toEqual(["client initialize", "server answer 0", "client notifications/initialized", "client tools/call", "server answer 1", "client tools/call", "server answer 2"]);
    expect(new Set(lines.map((l) => l.session)).size).toBe(1);
    expect(lines[3].frame.params).toMatchObject({ name: "local__echo", arguments: { text: "taped" } });
  });

  it("replays a tape to the gateway with every answer matching", async () => {
    const { text, out } = capture();
    const code = await createMcpCommand(out).run(["replay", tape, "--to", h.url, "--header", `authorization: Bearer ${KEY}`]);
    expect(text.stdout).toContain("replayed 3 request(s): every answer matches the tape");
    expect(code).toBe(0);
  });

  it("replays a tape to a server started by command and prints where its answers differ", async () => {
    const { text, out } = capture();
    const code = await createMcpCommand(out).run(["replay", tape, "--command", `${process.execPath} ${STDIO_SERVER}`]);
    expect(code).toBe(1);
    // Straight to the server, the gateway's prefixed tool names are unknown.
    expect(text.stdout).toMatch(/#1 tools\/call:\n(.*\n)*\s+\/result\/content\/0\/text: tape "local:taped", now/);
    expect(text.stdout).toContain("answer(s) differ");
  });

  it("tapes a server's request to the client under the gateway's id, and the client's answer", async () => {
    const client = await h.connect(KEY, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: "m", role: "assistant", content: { type: "text", text: "taped" } }));
    expect(textOf(await client.callTool({ name: "remote__ask_model", arguments: { prompt: "x" } }))).toBe("remote heard: taped");
    const dir = join(h.gateway.dir, "tapes");
    let lines: any[] = [];
    await waitUntil(async () => {
      // The replays above opened sessions (and tapes) of their own: this one is the tape that asked for sampling.
      for (const file of await readdir(dir)) {
        const text = await readFile(join(dir, file), "utf8");
        if (text.includes("sampling/createMessage")) lines = text.trim().split("\n").map((l) => JSON.parse(l));
      }
      return lines.some((l) => l.from === "server" && l.frame.id === 1 && l.frame.result !== undefined);
    }, () => "the tape never held the call's answer");
    const asked = lines.find((l) => l.frame.method === "sampling/createMessage");
    expect(asked).toMatchObject({ from: "server", frame: { id: expect.stringMatching(/^switchyard-\d+$/) } });
    expect(lines.find((l) => l.from === "client" && l.frame.id === asked.frame.id)?.frame.result).toMatchObject({ content: { text: "taped" } });
  });

  it("refuses a command line without a target, with exit code 2", async () => {
    const { text, out } = capture();
    expect(await createMcpCommand(out).run(["replay", tape])).toBe(2);
    expect(text.stderr).toContain("give one of --to URL or --command CMD");
  });
});
