/**
 * The Responses API's state on backends that keep none (responses-state): with the official
 * openai SDK, a three-turn conversation by `previous_response_id` on a Claude backend and on a
 * Gemini backend, plain and streamed, each turn's backend getting the whole conversation in its
 * own format; retrieval, input items and deletion; tenants kept apart; a Responses backend getting
 * the id untouched; and two gateway instances sharing one Redis.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND_KEYS, matrixPipeline, MODEL_OF } from "../support/format-matrix-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { skipWithoutRedis, startRedisServer, type RedisServer } from "../support/redis-server.js";
import { startFormatsUpstream, type FormatRequest, type FormatsUpstream } from "../support/upstream-formats.js";

const ACME = "sk-acme-state";
const GLOBEX = "sk-globex-state";

function statePipeline(origin: string, store?: unknown) {
  const base = matrixPipeline(origin, {
    routes: [
      { method: "GET", path: "/v1/responses/:id", format: "openai-responses", endpoint: "responses-get" },
      { method: "DELETE", path: "/v1/responses/:id", format: "openai-responses", endpoint: "responses-delete" },
      { method: "GET", path: "/v1/responses/:id/input_items", format: "openai-responses", endpoint: "responses-input-items" },
    ],
  });
  const steps = base.steps.flatMap((s) => (s.use === "translate" ? [{ use: "responses-state" }, s] : [s]));
  return { ...base, steps, ...(store === undefined ? {} : { store }) };
}

const keys = () =>
  keysFile([
    { key: ACME, id: "acme-key", tenant: "acme" },
    { key: GLOBEX, id: "globex-key", tenant: "globex" },
  ]);

/** The conversation a backend got, as (role, text) pairs in its own format's terms. */
function turnsOf(req: FormatRequest): [string, string][] {
  const text = (c: unknown): string =>
    typeof c === "string" ? c : Array.isArray(c) ? c.map((p: { text?: string; type?: string }) => (p.type === "thinking" ? "" : (p.text ?? ""))).join("") : "";
  switch (req.format) {
    case "anthropic-messages":
      return req.body.messages.map((m: { role: string; content: unknown }) => [m.role, text(m.content)]);
    case "gemini":
      return req.body.contents.map((c: { role: string; parts: unknown }) => [c.role === "model" ? "assistant" : c.role, text(c.parts)]);
    case "openai-chat":
      return req.body.messages.filter((m: { role: string }) => m.role !== "system").map((m: { role: string; content: unknown }) => [m.role, text(m.content)]);
    default:
      throw new Error(`not a stateless backend: ${req.format}`);
  }
}

describe("responses-state: previous_response_id on backends that keep no state", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let acme: OpenAI;
  let globex: OpenAI;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    gw = await startGateway({ "state.pipeline.json": statePipeline(upstream.origin), "keys.json": await keys() }, BACKEND_KEYS.env);
    acme = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ACME, maxRetries: 0 });
    globex = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: GLOBEX, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function ask(client: OpenAI, params: OpenAI.Responses.ResponseCreateParamsNonStreaming, stream: boolean): Promise<OpenAI.Responses.Response> {
    if (!stream) return client.responses.create(params);
    return client.responses.stream(params as Parameters<OpenAI["responses"]["stream"]>[0]).finalResponse();
  }

  for (const backend of ["anthropic-messages", "gemini", "openai-chat"] as const) {
    for (const stream of [false, true]) {
      it(`${stream ? "streamed" : "plain"}: three turns on a ${backend} backend, each rebuilt from the turn before`, async () => {
        const model = MODEL_OF[backend];
        upstream.queue(
          { reply: { text: "Nice to meet you, Ada.", usage: { input: 10, output: 6 } } },
          { reply: { text: "You like tea.", usage: { input: 20, output: 4 } } },
          { reply: { text: "Your name is Ada and you like tea.", usage: { input: 30, output: 9 } } },
        );
        const first = await ask(acme, { model, instructions: "Be brief.", input: "My name is Ada." }, stream);
        expect(first.output_text).toBe("Nice to meet you, Ada.");
        const second = await ask(acme, { model, previous_response_id: first.id, input: [{ role: "user", content: "I like tea. What do I like?" }] }, stream);
        expect(second.output_text).toBe("You like tea.");
        const third = await ask(acme, { model, previous_response_id: second.id, input: "What is my name, and what do I like?" }, stream);
        expect(third.output_text).toBe("Your name is Ada and you like tea.");

        const last = upstream.last();
        expect(last.format).toBe(backend);
        expect(turnsOf(last)).toEqual([
          ["user", "My name is Ada."],
          ["assistant", "Nice to meet you, Ada."],
          ["user", "I like tea. What do I like?"],
          ["assistant", "You like tea."],
          ["user", "What is my name, and what do I like?"],
        ]);
        // Instructions belong to their own request, as OpenAI's previous_response_id has it.
        if (backend === "anthropic-messages") expect(last.body.system).toBeUndefined();

        // Another tenant cannot continue, read or delete it.
        await expect(ask(globex, { model, previous_response_id: third.id, input: "Who am I?" }, false)).rejects.toMatchObject({ status: 404 });
        await expect(globex.responses.retrieve(third.id)).rejects.toMatchObject({ status: 404 });
        await expect(globex.responses.delete(third.id)).rejects.toMatchObject({ status: 404 });
      });
    }
  }

  it("GET returns the kept response, input_items lists its input, DELETE forgets it", async () => {
    upstream.set({ reply: { text: "Kept.", usage: { input: 3, output: 1 } } });
    const made = await acme.responses.create({ model: MODEL_OF["anthropic-messages"], input: [{ role: "user", content: "Keep this." }] });
    const got = await acme.responses.retrieve(made.id);
    expect(got).toMatchObject({ id: made.id, object: "response", output_text: "Kept.", store: true, previous_response_id: null });

    const items = await acme.responses.inputItems.list(made.id);
    expect(items.data).toMatchObject([{ type: "message", role: "user", content: [{ type: "input_text", text: "Keep this." }] }]);
    expect(items.data[0]!.id).toMatch(/^msg_/);

    await acme.responses.delete(made.id);
    await expect(acme.responses.retrieve(made.id)).rejects.toMatchObject({ status: 404 });
    await expect(acme.responses.create({ model: MODEL_OF["anthropic-messages"], previous_response_id: made.id, input: "and?" })).rejects.toMatchObject({ status: 404 });
  });

  it("store: false keeps nothing, and an unknown id is a 404 in OpenAI's shape", async () => {
    upstream.set({ reply: { text: "Forgotten.", usage: { input: 3, output: 1 } } });
    const made = await acme.responses.create({ model: MODEL_OF.gemini, input: "Do not keep this.", store: false });
    const err = await acme.responses.retrieve(made.id).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, error: { message: `Response with id '${made.id}' not found.` } });
  });

  it("a Responses backend gets previous_response_id and store untouched, and nothing is rebuilt", async () => {
    upstream.set({ reply: { text: "From OpenAI.", usage: { input: 3, output: 2 } } });
    await acme.responses.create({ model: MODEL_OF["openai-responses"], previous_response_id: "resp_openai_own_123", input: "Go on.", store: true });
    const req = upstream.last();
    expect(req.format).toBe("openai-responses");
    expect(req.body).toMatchObject({ previous_response_id: "resp_openai_own_123", store: true, input: "Go on." });
  });
});

describe.skipIf(skipWithoutRedis())("responses-state in the pipeline's Redis: shared by two gateway instances", () => {
  let redis: RedisServer;
  let upstream: FormatsUpstream;
  let one: TestGateway;
  let two: TestGateway;

  beforeAll(async () => {
    [redis, upstream] = await Promise.all([startRedisServer(), startFormatsUpstream()]);
    const files = async () => ({ "state.pipeline.json": statePipeline(upstream.origin, { kind: "redis", url: redis.url }), "keys.json": await keys() });
    one = await startGateway(await files(), BACKEND_KEYS.env);
    two = await startGateway(await files(), BACKEND_KEYS.env);
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await upstream?.close();
    await redis?.stop();
  });

  it("a conversation begun on one instance continues on the other, on a Gemini backend", async () => {
    const onOne = new OpenAI({ baseURL: `${one.url}/v1`, apiKey: ACME, maxRetries: 0 });
    const onTwo = new OpenAI({ baseURL: `${two.url}/v1`, apiKey: ACME, maxRetries: 0 });
    upstream.queue({ reply: { text: "Hello, Grace.", usage: { input: 5, output: 3 } } }, { reply: { text: "You are Grace.", usage: { input: 9, output: 3 } } });
    const first = await onOne.responses.create({ model: MODEL_OF.gemini, input: "I am Grace." });
    const second = await onTwo.responses.create({ model: MODEL_OF.gemini, previous_response_id: first.id, input: "Who am I?" });
    expect(second.output_text).toBe("You are Grace.");
    expect(turnsOf(upstream.last())).toEqual([
      ["user", "I am Grace."],
      ["assistant", "Hello, Grace."],
      ["user", "Who am I?"],
    ]);
    expect((await onTwo.responses.retrieve(first.id)).output_text).toBe("Hello, Grace.");
  });
});
