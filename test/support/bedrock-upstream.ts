/**
 * A local stand-in for the Bedrock runtime: it recomputes every request's SigV4 signature from the
 * request as it arrived (method, path, signed headers, body) with the shared test key, refuses a
 * mismatch with 403 as AWS does, and answers Converse with JSON and ConverseStream with real
 * `application/vnd.amazon.eventstream` frames made by the AWS SDK's codec.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { SignatureV4 } from "@smithy/signature-v4";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

export const TEST_AWS = { accessKeyId: "AKIDSWITCHYARDTEST01", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSWITCHYARD", region: "us-east-1" };

export interface BedrockSeen {
  path: string;
  modelId: string;
  stream: boolean;
  body: any;
  headers: IncomingMessage["headers"];
  /** The signature the stand-in computed, equal to the one the request carried. */
  signatureVerified: boolean;
}

/** What the stand-in answers instead of its default reply, for the next requests. */
export type BedrockScript =
  | { kind: "error"; status: number; body: unknown; headers?: Record<string, string>; onlyForAccessKeyId?: string }
  | { kind: "stream-exception"; exceptionType: string; message: string };

export interface BedrockUpstream {
  url: string;
  seen: BedrockSeen[];
  script(next: BedrockScript | undefined): void;
  close(): Promise<void>;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export function eventFrame(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: { ":message-type": { type: "string", value: "event" }, ":event-type": { type: "string", value: eventType }, ":content-type": { type: "string", value: "application/json" } },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

function exceptionFrame(exceptionType: string, message: string): Uint8Array {
  return codec.encode({
    headers: { ":message-type": { type: "string", value: "exception" }, ":exception-type": { type: "string", value: exceptionType }, ":content-type": { type: "string", value: "application/json" } },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

/** `20260101T000000Z` -> Date. */
function parseAmzDate(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) throw new Error("bad x-amz-date");
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** Recomputes the request's signature with the test key; true when it equals the one sent. */
async function verifySignature(req: IncomingMessage, body: string, secretAccessKey: string): Promise<boolean> {
  const authorization = req.headers.authorization ?? "";
  const parts = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!parts) return false;
  const [, accessKeyId, , region, service, signedHeaders] = parts;
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(";")) {
    const value = req.headers[name];
    if (typeof value !== "string") return false;
    headers[name] = value;
  }
  const signer = new SignatureV4({ service: service!, region: region!, sha256: Sha256, credentials: { accessKeyId: accessKeyId!, secretAccessKey, sessionToken: req.headers["x-amz-security-token"] as string | undefined } });
  const url = new URL(req.url ?? "/", "http://stand-in");
  const expected = await signer.sign(
    { method: req.method ?? "POST", protocol: "http:", hostname: url.hostname, path: url.pathname, query: {}, headers, body },
    { signingDate: parseAmzDate(req.headers["x-amz-date"] as string) },
  );
  return expected.headers.authorization === authorization;
}

function reply(body: any): { text: string; tool: { name: string; input: unknown } | undefined } {
  const tools = body.toolConfig?.tools ?? [];
  const last = body.messages?.at(-1);
  const answered = last?.content?.some((b: any) => b.toolResult !== undefined);
  const tool = tools.find((t: any) => t.toolSpec?.name === "get_weather");
  if (tool && !answered) return { text: "", tool: { name: "get_weather", input: { city: "Paris" } } };
  return { text: answered ? "It is sunny in Paris." : "Hello from Bedrock!", tool: undefined };
}

/** The stand-in's embedding of a text: three floats from its characters. */
export function standInVector(text: string): number[] {
  return [text.length, text.charCodeAt(0) || 0, text.charCodeAt(text.length - 1) || 0];
}

function embeddingReply(modelId: string, body: any): unknown {
  if (decodeURIComponent(modelId).includes("cohere.embed")) return { id: "emb-1", texts: body.texts, embeddings: body.texts.map(standInVector), response_type: "embeddings_floats" };
  return { embedding: standInVector(body.inputText), inputTextTokenCount: body.inputText.split(" ").length };
}

const USAGE = { inputTokens: 11, outputTokens: 5, totalTokens: 26, cacheReadInputTokens: 7, cacheWriteInputTokens: 3 };

export async function startBedrockUpstream(secretAccessKey = TEST_AWS.secretAccessKey): Promise<BedrockUpstream> {
  const seen: BedrockSeen[] = [];
  let scripted: BedrockScript | undefined;
  const server: Server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const route = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(req.url ?? "");
    const signatureVerified = await verifySignature(req, raw, secretAccessKey);
    seen.push({ path: req.url ?? "", modelId: route ? decodeURIComponent(route[1]!) : "", stream: route?.[2] === "converse-stream", body: JSON.parse(raw || "null"), headers: req.headers, signatureVerified });
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => void res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));
    if (!signatureVerified) {
      return json(403, { message: "The request signature we calculated does not match the signature you provided." }, { "x-amzn-errortype": "InvalidSignatureException" });
    }
    if (!route) return json(404, { message: "no such route" });
    if (scripted?.kind === "error" && (scripted.onlyForAccessKeyId === undefined || (req.headers.authorization ?? "").includes(`Credential=${scripted.onlyForAccessKeyId}/`))) return json(scripted.status, scripted.body, scripted.headers);
    const body = seen.at(-1)!.body;
    if (route[2] === "invoke") return json(200, embeddingReply(route[1]!, body));
    const { text, tool } = reply(body);
    if (route[2] === "converse") {
      const content = tool ? [{ toolUse: { toolUseId: "tooluse_1", name: tool.name, input: tool.input } }] : [{ text }];
      return json(200, { output: { message: { role: "assistant", content } }, stopReason: tool ? "tool_use" : "end_turn", usage: USAGE, metrics: { latencyMs: 12 } });
    }
    res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream" });
    res.write(eventFrame("messageStart", { role: "assistant" }));
    if (scripted?.kind === "stream-exception") {
      res.write(eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "Hel" } }));
      return void res.end(exceptionFrame(scripted.exceptionType, scripted.message));
    }
    if (tool) {
      res.write(eventFrame("contentBlockStart", { contentBlockIndex: 0, start: { toolUse: { toolUseId: "tooluse_1", name: tool.name } } }));
      const args = JSON.stringify(tool.input);
      // Split inside a frame boundary too: one frame's bytes over two writes.
      const delta = eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input: args.slice(0, 5) } } });
      res.write(delta.subarray(0, 7));
      res.write(delta.subarray(7));
      res.write(eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input: args.slice(5) } } }));
      res.write(eventFrame("contentBlockStop", { contentBlockIndex: 0 }));
      res.write(eventFrame("messageStop", { stopReason: "tool_use" }));
    } else {
      for (const piece of [text.slice(0, 6), text.slice(6)]) res.write(eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: piece } }));
      res.write(eventFrame("contentBlockStop", { contentBlockIndex: 0 }));
      res.write(eventFrame("messageStop", { stopReason: "end_turn" }));
    }
    res.end(eventFrame("metadata", { usage: USAGE, metrics: { latencyMs: 12 } }));
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    script: (next) => void (scripted = next),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
