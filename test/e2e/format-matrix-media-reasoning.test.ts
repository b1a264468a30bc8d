/**
 * The second tier of the format matrix, every client SDK against every backend format, plain and
 * streamed: a PDF summarised (the document reaches each backend in its own shape), audio where
 * the backend takes it (and the translate policy where it does not), and a thinking model's answer
 * read with its reasoning and sent back for a second turn, its signature reaching the backend.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_APIS, clientsFor, type ClientApi, type Clients } from "../support/format-clients.js";
import { converse } from "../support/format-conversation.js";
import { matrixPipeline, BACKEND_KEYS, MODEL_OF } from "../support/format-matrix-pipeline.js";
import { keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { waitForRecords } from "../support/records.js";
import { startFormatsUpstream, type FormatRequest, type FormatsUpstream, type UpstreamFormat } from "../support/upstream-formats.js";

const KEY = "sk-matrix-media";
/** A real (tiny) PDF: what an app reads from disk and base64-encodes. */
const PDF = Buffer.from("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n").toString("base64");
const WAV = Buffer.from("RIFF\u0024\u0000\u0000\u0000WAVEfmt ").toString("base64");
const ASK = "Summarise the attached report in one line.";

/** The user turn with a PDF attached, in each client API's own shape. */
const PDF_TURN: Record<ClientApi, unknown> = {
  "openai-chat": [{ type: "file", file: { filename: "report.pdf", file_data: `data:application/pdf;base64,${PDF}` } }, { type: "text", text: ASK }],
  "openai-responses": [{ type: "input_file", filename: "report.pdf", file_data: `data:application/pdf;base64,${PDF}` }, { type: "input_text", text: ASK }],
  "anthropic-messages": [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF }, title: "report.pdf" }, { type: "text", text: ASK }],
  gemini: [{ inlineData: { mimeType: "application/pdf", data: PDF } }, { text: ASK }],
};

const AUDIO_TURN: Partial<Record<ClientApi, unknown>> = {
  "openai-chat": [{ type: "input_audio", input_audio: { data: WAV, format: "wav" } }, { type: "text", text: "Transcribe this." }],
  "openai-responses": [{ type: "input_audio", input_audio: { data: WAV, format: "wav" } }, { type: "input_text", text: "Transcribe this." }],
  gemini: [{ inlineData: { mimeType: "audio/wav", data: WAV } }, { text: "Transcribe this." }],
};

type Media = { kind: "document" | "audio"; mediaType: string; data: string; name?: string };

/** The documents and audio of the last user turn an upstream got, read from its own wire shape. */
function mediaOf(req: FormatRequest): Media[] {
  const b = req.body;
  const fromDataUrl = (url: string) => /^data:([^;]+);base64,(.*)$/.exec(url)!;
  switch (req.format) {
    case "openai-chat": {
      const parts: any[] = b.messages.findLast((m: any) => m.role === "user").content;
      return parts.flatMap((p): Media[] => {
        if (p.type === "file") {
          const [, mediaType, data] = fromDataUrl(p.file.file_data);
          return [{ kind: "document", mediaType: mediaType!, data: data!, name: p.file.filename }];
        }
        return p.type === "input_audio" ? [{ kind: "audio", mediaType: p.input_audio.format, data: p.input_audio.data }] : [];
      });
    }
    case "openai-responses": {
      const parts: any[] = b.input.findLast((m: any) => m.role === "user").content;
      return parts.flatMap((p): Media[] => {
        if (p.type === "input_file") {
          const [, mediaType, data] = fromDataUrl(p.file_data);
          return [{ kind: "document", mediaType: mediaType!, data: data!, name: p.filename }];
        }
        return p.type === "input_audio" ? [{ kind: "audio", mediaType: p.input_audio.format, data: p.input_audio.data }] : [];
      });
    }
    case "anthropic-messages": {
      const blocks: any[] = b.messages.findLast((m: any) => m.role === "user").content;
      return blocks.flatMap((p): Media[] => (p.type === "document" ? [{ kind: "document", mediaType: p.source.media_type, data: p.source.data, name: p.title }] : []));
    }
    case "gemini": {
      const parts: any[] = b.contents.findLast((c: any) => c.role === "user").parts;
      return parts.flatMap((p): Media[] =>
        p.inlineData ? [{ kind: p.inlineData.mimeType.startsWith("audio/") ? "audio" : "document", mediaType: p.inlineData.mimeType, data: p.inlineData.data }] : [],
      );
    }
  }
}

/** The thinking signatures of the assistant turn an upstream got back, read from its own wire shape. */
function signaturesSentBack(req: FormatRequest): string[] {
  const b = req.body;
  switch (req.format) {
    case "openai-chat":
      return [];
    case "openai-responses":
      return (b.input as any[]).flatMap((item) => (item.type === "reasoning" && item.encrypted_content ? [item.encrypted_content] : []));
    case "anthropic-messages":
      return (b.messages as any[]).flatMap((m) => (m.role === "assistant" && Array.isArray(m.content) ? m.content.flatMap((c: any) => (c.type === "thinking" ? [c.signature] : [])) : []));
    case "gemini":
      return (b.contents as any[]).flatMap((c) => (c.role === "model" ? c.parts.flatMap((p: any) => (p.thoughtSignature ? [p.thoughtSignature] : [])) : []));
  }
}

const THINKING = { text: "The user wants the weather; Paris is mild today.", signature: "EqQBCkgIARABGAIiQL2b-sig-paris" };
const ANSWER = "Paris is sunny, 21 degrees.";

describe("format matrix, second tier: documents, audio and reasoning across every client SDK and backend format", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let clients: Clients;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    const base = matrixPipeline(upstream.origin);
    const pipeline = { ...base, steps: [...base.steps, { use: "record-jsonl", config: { path: "./records.jsonl", flushIntervalMs: 10 } }] };
    gw = await startGateway({ "matrix.pipeline.json": pipeline, "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]) }, BACKEND_KEYS.env);
    clients = clientsFor(gw.url, KEY);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  for (const client of CLIENT_APIS) {
    describe(`${client} client`, () => {
      for (const backend of CLIENT_APIS) {
        for (const stream of [false, true]) {
          const mode = stream ? "streamed" : "plain";

          it(`${mode}: a PDF reaches a ${backend} backend in its own shape and the summary reads back`, async () => {
            upstream.set({ reply: { text: "A one-page report on Paris weather.", usage: { input: 1500, output: 9 } } });
            const reply = await converse(clients, client, { model: MODEL_OF[backend], stream, user: PDF_TURN[client] });
            expect(reply.text).toBe("A one-page report on Paris weather.");
            expect(reply.backend).toBe(backend);
            const req = upstream.last();
            expect(req.format).toBe(backend);
            const [doc, ...others] = mediaOf(req);
            expect(others).toEqual([]);
            expect(doc).toMatchObject({ kind: "document", mediaType: "application/pdf", data: PDF });
            // Gemini carries no file name; the others keep the client's. Gemini clients send none, and
            // OpenAI, which wants one beside inline bytes, gets a made-up one.
            const name = backend === "gemini" ? undefined : client !== "gemini" ? "report.pdf" : backend === "anthropic-messages" ? undefined : "document.pdf";
            expect(doc!.name).toBe(name);
          });

          it(`${mode}: a thinking answer from a ${backend} backend reads with its reasoning, and the second turn carries its signature back`, async () => {
            upstream.set({ reply: { thinking: THINKING, text: ANSWER, usage: { input: 40, output: 30 } } });
            const first = await converse(clients, client, { model: MODEL_OF[backend], stream, user: "Weather in Paris?" });
            expect(first.text).toBe(ANSWER);
            expect(first.thinking).toBe(THINKING.text);
            // Chat Completions has no place for a signature, neither as a client nor as a backend.
            const signed = client !== "openai-chat" && backend !== "openai-chat";
            expect(first.signatures).toEqual(signed ? [THINKING.signature] : []);

            upstream.set({ reply: { text: "You're welcome.", usage: { input: 60, output: 3 } } });
            const second = await converse(clients, client, { model: MODEL_OF[backend], stream, user: "Thanks!", history: first.history });
            expect(second.text).toBe("You're welcome.");
            expect(signaturesSentBack(upstream.last())).toEqual(signed ? [THINKING.signature] : []);
          });
        }
      }

      if (AUDIO_TURN[client] !== undefined) {
        for (const backend of ["openai-chat", "openai-responses", "gemini"] as UpstreamFormat[]) {
          it(`audio input reaches a ${backend} backend as its own audio`, async () => {
            upstream.set({ reply: { text: "Hello there.", usage: { input: 90, output: 3 } } });
            const reply = await converse(clients, client, { model: MODEL_OF[backend], stream: false, user: AUDIO_TURN[client] });
            expect(reply.text).toBe("Hello there.");
            expect(mediaOf(upstream.last())).toEqual([{ kind: "audio", mediaType: backend === "gemini" ? "audio/wav" : "wav", data: WAV }]);
          });
        }
        it("audio to an Anthropic backend, which takes none, is dropped and noted on the record (drop policy)", async () => {
          const noted = (all: any[]) => all.filter((r) => r.format === client && r.notes?.includes("dropped for anthropic-messages: messages.audio")).length;
          upstream.set({ reply: { text: "I cannot hear audio.", usage: { input: 10, output: 5 } } });
          const reply = await converse(clients, client, { model: MODEL_OF["anthropic-messages"], stream: false, user: AUDIO_TURN[client] });
          expect(reply.text).toBe("I cannot hear audio.");
          const blocks = upstream.last().body.messages.at(-1).content as { type: string }[];
          expect(blocks.map((b) => b.type)).toEqual(["text"]);
          await waitForRecords(join(gw.dir, "records.jsonl"), (all) => noted(all) === 1, { what: "the record noting the dropped audio" });
        });
      }
    });
  }
});

describe("the strict translate policy refuses a part the backend cannot take, naming it, in the client's format", () => {
  let upstream: FormatsUpstream;
  let gw: TestGateway;
  let clients: Clients;

  beforeAll(async () => {
    upstream = await startFormatsUpstream();
    const pipeline = matrixPipeline(upstream.origin);
    pipeline.steps = pipeline.steps.map((s) => (s.use === "translate" ? { use: "translate", config: { policy: "strict" } } : s)) as typeof pipeline.steps;
    gw = await startGateway({ "matrix.pipeline.json": pipeline, "keys.json": await keysFile([{ key: KEY, id: "k1", tenant: "acme" }]) }, BACKEND_KEYS.env);
    clients = clientsFor(gw.url, KEY);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("OpenAI chat audio to a Claude backend: 400 unsupported_field naming messages.audio, and the backend is never called", async () => {
    const before = upstream.requests.length;
    const err = await converse(clients, "openai-chat", { model: MODEL_OF["anthropic-messages"], stream: false, user: AUDIO_TURN["openai-chat"] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: "unsupported_field", param: "messages.audio" });
    expect(upstream.requests.length).toBe(before);
  });

  it("a Responses file URL to a chat backend (chat takes no URLs): 400 naming messages.document.url", async () => {
    const user = [{ type: "input_file", file_url: "https://example.com/report.pdf" }, { type: "input_text", text: ASK }];
    const err = await converse(clients, "openai-responses", { model: MODEL_OF["openai-chat"], stream: false, user }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: "unsupported_field", param: "messages.document.url" });
  });

  it("an untitled PDF passes strict to every backend: each takes PDFs", async () => {
    const user = [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF } }, { type: "text", text: ASK }];
    for (const backend of CLIENT_APIS) {
      upstream.set({ reply: { text: "ok", usage: { input: 5, output: 1 } } });
      const reply = await converse(clients, "anthropic-messages", { model: MODEL_OF[backend], stream: false, user });
      expect(reply.text).toBe("ok");
    }
  });

  it("a titled PDF to a Gemini backend (no place for a title): 400 naming messages.document.title", async () => {
    const err = await converse(clients, "anthropic-messages", { model: MODEL_OF.gemini, stream: false, user: PDF_TURN["anthropic-messages"] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, error: { error: { type: "invalid_request_error", message: 'field "messages.document.title" cannot be carried to a gemini backend' } } });
  });
});
