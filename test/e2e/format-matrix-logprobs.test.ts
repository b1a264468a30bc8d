/**
 * Logprobs across formats with the official SDKs: OpenAI chat (`logprobs`, `top_logprobs`),
 * Responses (`include: ["message.output_text.logprobs"]`, `top_logprobs`) and Gemini
 * (`responseLogprobs`, `logprobs`) clients against backends of each, plain and streamed: each
 * backend is asked in its own terms and every token reaches the client in its own shape. Claude
 * has no logprobs: the translate policy drops the ask (noted) or refuses it (strict).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientsFor, type ClientApi, type Clients } from "../support/format-clients.js";
import { converse } from "../support/format-conversation.js";
import { BACKEND_KEYS, matrixPipeline, MODEL_OF } from "../support/format-matrix-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { waitForRecords } from "../support/records.js";
import { startFormatsUpstream, type FormatRequest, type FormatsUpstream } from "../support/upstream-formats.js";
import { scriptedTokens } from "../support/upstream-wire.js";

const KEY = "sk-matrix-logprobs";
const LOGPROB_APIS = ["openai-chat", "openai-responses", "gemini"] as const satisfies readonly ClientApi[];
const TEXT = "Paris is sunny, 21 degrees.";

/** Asking for each token's logprob and its 2 likeliest alternatives, in each client API's terms. */
const ASK_LOGPROBS: Record<(typeof LOGPROB_APIS)[number], Record<string, unknown>> = {
  "openai-chat": { logprobs: true, top_logprobs: 2 },
  "openai-responses": { include: ["message.output_text.logprobs"], top_logprobs: 2 },
  gemini: { responseLogprobs: true, logprobs: 2 },
};

/** How many alternatives the upstream was asked for, read from its own wire shape; undefined when none were. */
function askedTop(req: FormatRequest): number | undefined {
  const b = req.body;
  switch (req.format) {
    case "openai-chat":
      return b.logprobs === true ? (b.top_logprobs ?? 0) : undefined;
    case "openai-responses":
      return Array.isArray(b.include) && b.include.includes("message.output_text.logprobs") ? (b.top_logprobs ?? 0) : undefined;
    case "gemini":
      return b.generationConfig?.responseLogprobs === true ? (b.generationConfig.logprobs ?? 0) : undefined;
    case "anthropic-messages":
      return undefined;
  }
}

const expectedTokens = scriptedTokens({ text: TEXT, logprobs: { top: 2 }, usage: { input: 1, output: 1 } }).map((t) => ({ token: t.token, logprob: t.logprob, top: 2 }));

describe("logprobs across OpenAI chat, Responses and Gemini, through the gateway", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let clients: Clients;

  beforeAll(async () => {
    upstream = await startFormatsUpstream({ reply: { text: TEXT, usage: { input: 20, output: 8 } } });
    const base = matrixPipeline(upstream.origin);
    const pipeline = { ...base, steps: [...base.steps, { use: "record-jsonl", config: { path: "./records.jsonl", flushIntervalMs: 10 } }] };
    gw = await startGateway({ "matrix.pipeline.json": pipeline, "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]) }, BACKEND_KEYS.env);
    clients = clientsFor(gw.url, KEY);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  for (const client of LOGPROB_APIS) {
    for (const backend of LOGPROB_APIS) {
      for (const stream of [false, true]) {
        it(`${client} client, ${backend} backend, ${stream ? "streamed" : "plain"}: every token's logprob and alternatives read back`, async () => {
          const reply = await converse(clients, client, { model: MODEL_OF[backend], stream, user: "Weather in Paris?", params: ASK_LOGPROBS[client] });
          expect(reply.text).toBe(TEXT);
          expect(askedTop(upstream.last())).toBe(2);
          expect(reply.logprobs).toEqual(expectedTokens);
        });
      }
    }

    it(`${client} client, Claude backend (no logprobs): the ask is dropped and noted, the answer comes without them`, async () => {
      const noted = (all: any[]) => all.filter((r) => r.format === client && r.notes?.includes("dropped for anthropic-messages: topLogprobs")).length;
      const reply = await converse(clients, client, { model: MODEL_OF["anthropic-messages"], stream: false, user: "Weather in Paris?", params: ASK_LOGPROBS[client] });
      expect(reply.text).toBe(TEXT);
      expect(reply.logprobs).toEqual([]);
      await waitForRecords(join(gw.dir, "records.jsonl"), (all) => noted(all) === 1, { what: "the record noting the dropped logprobs" });
    });
  }

  it("without an ask, no backend is asked for logprobs", async () => {
    for (const backend of LOGPROB_APIS) {
      await converse(clients, "openai-chat", { model: MODEL_OF[backend], stream: false, user: "Hi" });
      expect(askedTop(upstream.last())).toBeUndefined();
    }
  });
});

describe("logprobs to a Claude backend under the strict translate policy", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let clients: Clients;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    const base = matrixPipeline(upstream.origin);
    const pipeline = { ...base, steps: base.steps.map((s) => (s.use === "translate" ? { use: "translate", config: { policy: "strict" } } : s)) };
    gw = await startGateway({ "matrix.pipeline.json": pipeline, "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]) }, BACKEND_KEYS.env);
    clients = clientsFor(gw.url, KEY);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("is a 400 naming topLogprobs, in the client's format, and the backend is never called", async () => {
    const err = await converse(clients, "openai-chat", { model: MODEL_OF["anthropic-messages"], stream: false, user: "Hi", params: ASK_LOGPROBS["openai-chat"] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: "unsupported_field", param: "topLogprobs" });
    expect(upstream.requests).toEqual([]);
  });
});
