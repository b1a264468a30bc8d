/**
 * stream-sse keep-alive comments in a served gateway: while the upstream is silent mid-stream, the
 * client gets `: keep-alive` SSE comment lines (so proxies and clients do not time the stream
 * out), and SDKs read the stream around them unharmed. The upstream's next chunk waits until the
 * client has seen the comments, so no test depends on how fast anything runs.
 */
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultGateway, ask, type FaultGateway } from "../support/fault-gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream, type UpstreamBehaviour } from "../support/upstream-openai.js";
import { within } from "../support/wait.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const KEEPALIVE = ": keep-alive\n\n";

async function setup(behaviour: UpstreamBehaviour, keepAliveMs: number): Promise<{ upstream: OpenAiUpstream; gw: FaultGateway }> {
  const upstream = await startOpenAiUpstream(behaviour);
  open.push(upstream);
  const gw = await startFaultGateway({ upstreams: [upstream.url], stream: { keepAliveMs } });
  open.unshift(gw);
  return { upstream, gw };
}

/** Resolves once `count` keep-alive comments have come through `seen()`'s text. */
function keepAlivesSeen(seen: () => string, count: number, onChunk: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (seen().split(KEEPALIVE).length - 1 >= count) {
        onChunk.delete(check);
        resolve();
      }
    };
    onChunk.add(check);
    check();
  });
}

describe("stream keep-alive comments", () => {
  it("are written while the upstream is silent mid-stream, as SSE comment lines between the data events", async () => {
    let raw = "";
    const listeners = new Set<() => void>();
    // Before its second content chunk the upstream waits until the client has seen three comments.
    const { gw } = await setup({ chunks: 3, beforeChunk: (i) => (i === 1 ? keepAlivesSeen(() => raw, 3, listeners) : Promise.resolve()) }, 20);
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask(true)) });
    expect(res.status).toBe(200);
    const decoder = new TextDecoder();
    const read = async () => {
      for await (const chunk of res.body!) {
        raw += decoder.decode(chunk, { stream: true });
        for (const l of [...listeners]) l();
      }
    };
    await within(read(), "the stream's end (its upstream waits for three keep-alive comments)");
    expect(raw.trimEnd().endsWith("data: [DONE]")).toBe(true);
    // Between events only whole comment lines: each event still parses on its own.
    const blocks = raw.split("\n\n").filter(Boolean);
    expect(blocks.filter((b) => b === ": keep-alive").length).toBeGreaterThanOrEqual(3);
    for (const b of blocks) expect(b === ": keep-alive" || b.startsWith("data: ")).toBe(true);
    const text = blocks.filter((b) => b.startsWith("data: {")).map((b) => JSON.parse(b.slice(6)).choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe("Hello from the test upstream.");
  });

  it("are skipped by the openai SDK, which reads the whole reply around them", async () => {
    let raw = "";
    const listeners = new Set<() => void>();
    const { gw } = await setup({ chunks: 3, beforeChunk: (i) => (i === 1 ? keepAlivesSeen(() => raw, 2, listeners) : Promise.resolve()) }, 20);
    // The SDK reads the gateway's bytes through a fetch that also shows them to the test.
    const teeFetch = async (url: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(url, init);
      const decoder = new TextDecoder();
      const watched = res.body!.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            raw += decoder.decode(chunk, { stream: true });
            for (const l of [...listeners]) l();
            controller.enqueue(chunk);
          },
        }),
      );
      return new Response(watched, { status: res.status, headers: res.headers });
    };
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "client-key", maxRetries: 0, fetch: teeFetch });
    let text = "";
    const read = async () => {
      for await (const chunk of await client.chat.completions.create(ask(true))) text += chunk.choices[0]?.delta?.content ?? "";
    };
    await within(read(), "the stream's end (its upstream waits for two keep-alive comments)");
    expect(raw).toContain(KEEPALIVE);
    expect(text).toBe("Hello from the test upstream.");
  });
});
