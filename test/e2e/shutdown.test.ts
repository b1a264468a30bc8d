import { mkdtemp, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { serve } from "../support/cli-process.js";
import { keysFile } from "../support/gateway.js";
import { readWholeRecords } from "../support/records.js";

describe("switchyard serve on SIGTERM", () => {
  it("lets an open stream finish, writes its record, stops taking requests and exits 0", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-shutdown-"));
    await writeFile(join(dir, "keys.json"), JSON.stringify(await keysFile([{ key: "sk-drain", id: "k", tenant: "t" }])));
    await writeFile(join(dir, "drain.pipeline.json"), JSON.stringify({
      id: "drain",
      routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
      backends: { mock: { use: "provider-mock", config: { reply: "one two three four five six seven eight nine ten", chunks: 10, chunkDelayMs: 100 } } },
      steps: [
        { use: "auth-api-key", config: { keysFile: "./keys.json" } },
        { use: "stream-sse" },
        { use: "record-jsonl", config: { path: "./records.jsonl", flushIntervalMs: 60000 } },
      ],
    }));
    const gw = await serve([dir]);
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-drain", "content-type": "application/json" },
      body: JSON.stringify({ model: "mock", stream: true, messages: [{ role: "user", content: "count" }] }),
    });
    expect(res.statusCode).toBe(200);
    const id = res.headers["x-switchyard-request-id"];
    let text = "";
    let signalled = false;
    for await (const chunk of res.body) {
      text += chunk.toString();
      if (!signalled) {
        signalled = true;
        gw.child.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 100));
        const ready = await request(`${gw.url}/readyz`).then((r) => r.statusCode, () => "refused");
        expect([503, "refused"]).toContain(ready);
      }
    }
    expect(text).toContain("data: [DONE]");
    expect(text).toContain("ten");
    expect(await gw.exited).toBe(0);
    // flushIntervalMs is a minute: the record is there because shutdown flushed it.
    const { records, partial } = await readWholeRecords(join(dir, "records.jsonl"));
    expect(partial).toBe("");
    expect(records.find((r) => r.id === id)).toMatchObject({ status: 200, stream: true, pipeline: "drain" });
  });
});
