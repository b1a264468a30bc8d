/**
 * A local OAuth2 token endpoint and Vertex AI stand-in. The token endpoint checks the JWT-bearer
 * grant (RS256 signature against the test service account's public key, issuer, audience, scope,
 * expiry) and issues numbered tokens; the Vertex stand-in answers Gemini (generateContent,
 * streamGenerateContent) and Anthropic (rawPredict, streamRawPredict) calls only with a bearer
 * token the endpoint issued, in Google's error shape otherwise.
 */
import { generateKeyPairSync, verify } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const VERTEX_PROJECT = "switchyard-test-1";
export const VERTEX_LOCATION = "us-east5";

export interface VertexSeen {
  path: string;
  publisher: string;
  model: string;
  method: string;
  body: any;
  authorization: string | undefined;
}

export interface VertexStandIn {
  tokenUrl: string;
  vertexUrl: string;
  /** The service account key file's JSON text, as `${file:…}` would read it. */
  serviceAccountKey: string;
  tokensIssued(): number;
  /** The token endpoint's answer's expires_in, for the next exchanges. */
  setTokenLifetime(seconds: number): void;
  /** Forget every issued token: the stand-in then answers 401 to them. */
  revokeTokens(): void;
  seen: VertexSeen[];
  /** An error for the next Vertex calls instead of an answer. */
  script(next: { status: number; body: unknown; headers?: Record<string, string> } | undefined): void;
  close(): Promise<void>;
}

const EMAIL = "gateway@switchyard-test-1.iam.gserviceaccount.com";

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

export async function startVertexStandIn(): Promise<VertexStandIn> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  let issued: string[] = [];
  let lifetime = 3600;
  let scripted: { status: number; body: unknown; headers?: Record<string, string> } | undefined;
  const seen: VertexSeen[] = [];
  let tokenUrl = "";

  const tokenServer = createServer(async (req, res) => {
    const form = new URLSearchParams(await readText(req));
    const [header, claims, signature] = (form.get("assertion") ?? "").split(".");
    const valid = form.get("grant_type") === "urn:ietf:params:oauth:grant-type:jwt-bearer" && header && claims && signature
      && verify("RSA-SHA256", Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, "base64url"));
    const body = valid ? JSON.parse(Buffer.from(claims!, "base64url").toString("utf8")) : undefined;
    const now = Date.now() / 1000;
    if (!valid || body.iss !== EMAIL || body.aud !== tokenUrl || body.scope !== "https://www.googleapis.com/auth/cloud-platform" || !(body.exp > now && body.iat <= now + 5)) {
      return json(res, 400, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
    }
    const token = `ya29.vertex-test-${issued.length + 1}`;
    issued.push(token);
    json(res, 200, { access_token: token, expires_in: lifetime, token_type: "Bearer" });
  });
  tokenUrl = `${await listen(tokenServer)}/token`;

  const route = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):(generateContent|streamGenerateContent|rawPredict|streamRawPredict)(\?alt=sse)?$/;
  const vertexServer = createServer(async (req, res) => {
    const text = await readText(req);
    const m = route.exec(req.url ?? "");
    const body = JSON.parse(text || "null");
    seen.push({ path: req.url ?? "", publisher: m?.[3] ?? "", model: m ? decodeURIComponent(m[4]!) : "", method: m?.[5] ?? "", body, authorization: req.headers.authorization });
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (bearer === undefined || !issued.includes(bearer)) {
      return json(res, 401, { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" } });
    }
    if (!m || m[1] !== VERTEX_PROJECT || m[2] !== VERTEX_LOCATION) return json(res, 404, { error: { code: 404, message: "not found", status: "NOT_FOUND" } });
    if (scripted) return json(res, scripted.status, scripted.body, scripted.headers);
    if (m[3] === "google") return gemini(res, body, m[5] === "streamGenerateContent", m[4]!);
    if (body.anthropic_version !== "vertex-2023-10-16" || "model" in body) return json(res, 400, { error: { code: 400, message: "anthropic_version missing or model in body", status: "INVALID_ARGUMENT" } });
    return anthropic(res, body, m[5] === "streamRawPredict", decodeURIComponent(m[4]!));
  });
  const vertexUrl = await listen(vertexServer);

  const close = (s: Server) => new Promise<void>((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });
  return {
    tokenUrl, vertexUrl,
    serviceAccountKey: JSON.stringify({ type: "service_account", project_id: VERTEX_PROJECT, private_key_id: "key-1", private_key: pem, client_email: EMAIL, token_uri: "https://oauth2.googleapis.com/token" }),
    tokensIssued: () => issued.length,
    setTokenLifetime: (seconds) => void (lifetime = seconds),
    revokeTokens: () => void (issued = issued.map(() => "revoked")),
    seen,
    script: (next) => void (scripted = next),
    close: async () => {
      await close(tokenServer);
      await close(vertexServer);
    },
  };
}

function wantsTool(tools: unknown[] | undefined, answered: boolean): boolean {
  return (tools?.length ?? 0) > 0 && !answered;
}

function gemini(res: ServerResponse, body: any, stream: boolean, model: string): void {
  const answered = body.contents?.at(-1)?.parts?.some((p: any) => p.functionResponse !== undefined) ?? false;
  const tool = wantsTool(body.tools, answered);
  const usageMetadata = { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 };
  const parts = tool ? [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }] : [{ text: "Hello from Vertex Gemini!" }];
  const done = { candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }], usageMetadata, modelVersion: model };
  if (!stream) return json(res, 200, done);
  res.writeHead(200, { "content-type": "text/event-stream" });
  if (!tool) res.write(`data: ${JSON.stringify({ candidates: [{ content: { role: "model", parts: [{ text: "Hello " }] }, index: 0 }], modelVersion: model })}\r\n\r\n`);
  const last = tool ? done : { ...done, candidates: [{ ...done.candidates[0], content: { role: "model", parts: [{ text: "from Vertex Gemini!" }] } }] };
  res.end(`data: ${JSON.stringify(last)}\r\n\r\n`);
}

function anthropic(res: ServerResponse, body: any, stream: boolean, model: string): void {
  const answered = body.messages?.at(-1)?.content?.some?.((b: any) => b.type === "tool_result") ?? false;
  const tool = wantsTool(body.tools, answered);
  const content = tool ? [{ type: "tool_use", id: "toolu_vertex_1", name: "get_weather", input: { city: "Paris" } }] : [{ type: "text", text: "Hello from Vertex Claude!" }];
  const message = { id: "msg_vrtx_1", type: "message", role: "assistant", model, content, stop_reason: tool ? "tool_use" : "end_turn", stop_sequence: null, usage: { input_tokens: 9, output_tokens: 4 } };
  if (!stream) return json(res, 200, message);
  const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...(data as object) })}\n\n`;
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.write(event("message_start", { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 9, output_tokens: 1 } } }));
  if (tool) {
    res.write(event("content_block_start", { index: 0, content_block: { type: "tool_use", id: "toolu_vertex_1", name: "get_weather", input: {} } }));
    res.write(event("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: '{"city":' } }));
    res.write(event("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: '"Paris"}' } }));
  } else {
    res.write(event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }));
    res.write(event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hello from " } }));
    res.write(event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Vertex Claude!" } }));
  }
  res.write(event("content_block_stop", { index: 0 }));
  res.write(event("message_delta", { delta: { stop_reason: tool ? "tool_use" : "end_turn", stop_sequence: null }, usage: { output_tokens: 4 } }));
  res.end(event("message_stop", {}));
}
