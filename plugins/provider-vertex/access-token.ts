/**
 * OAuth2 access tokens for Vertex AI from a service account key: a JWT signed RS256 with the
 * key's private key (node:crypto; JWT is three base64url parts, no library needed to write one),
 * exchanged at the token endpoint (RFC 7523 JWT-bearer grant). A token is kept until shortly
 * before it expires; concurrent callers share one exchange; a 401 from Vertex drops it.
 */
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { GatewayError, readBody, type UpstreamCall } from "../../core/index.js";
import { readUpstreamErrorDetail, upstreamStatusError, upstreamTimeoutError } from "../../lib/upstream/errors.js";
import { UpstreamPool } from "../../lib/upstream/pool.js";
import { endOfSignal } from "../../lib/upstream/end-of-signal.js";

/** Renew this long before the expiry the token endpoint gave: a call in flight must not carry a token that lapses on the way. */
const RENEW_BEFORE_MS = 5 * 60_000;
/** What a JWT assertion may live, by Google's rules (an hour at most). */
const ASSERTION_SECONDS = 3600;
const DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token";
const TOKEN_BODY_LIMIT = 64 * 1024;
/** One exchange serves every caller waiting at the time, so it runs on its own clock, not on the first caller's signal. */
const EXCHANGE_TIMEOUT_MS = 30_000;

export interface AccessTokenSource {
  /** A valid bearer token for `call` (fetched with its signal and timeouts when none is kept). */
  token(call: UpstreamCall): Promise<string>;
  /** The upstream refused `token` (401): forget it so the next call exchanges anew. */
  rejected(token: string): void;
  /** Values to scrub from errors. */
  readonly secrets: readonly string[];
  close(): Promise<void>;
}

/** A token given in the config, used as it is. */
export function fixedToken(token: string): AccessTokenSource {
  return { token: async () => token, rejected: () => undefined, secrets: [token], close: async () => undefined };
}

interface ServiceAccountKey {
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId: string | undefined;
  tokenUri: string | undefined;
}

export function parseServiceAccountKey(text: string, configError: (message: string) => Error): ServiceAccountKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw configError("serviceAccountKey is not JSON (give the key file's content, as ${file:./key.json})");
  }
  const key = parsed as Record<string, unknown>;
  if (typeof key.client_email !== "string" || typeof key.private_key !== "string") throw configError("serviceAccountKey has no client_email or private_key");
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.private_key);
  } catch {
    throw configError("serviceAccountKey's private_key is not a PEM private key");
  }
  return {
    clientEmail: key.client_email,
    privateKey,
    privateKeyId: typeof key.private_key_id === "string" ? key.private_key_id : undefined,
    tokenUri: typeof key.token_uri === "string" ? key.token_uri : undefined,
  };
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

export class ServiceAccountTokens implements AccessTokenSource {
  private readonly pool: UpstreamPool;
  private readonly path: string;
  private readonly audience: string;
  private kept: { token: string; renewAt: number } | undefined;
  private exchanging: Promise<string> | undefined;
  readonly secrets: readonly string[];

  constructor(private readonly key: ServiceAccountKey, tokenUrl: string | undefined, private readonly scopes: readonly string[], private readonly source: string) {
    const url = new URL(tokenUrl ?? key.tokenUri ?? DEFAULT_TOKEN_URL);
    this.audience = url.href;
    this.path = url.pathname + url.search;
    this.pool = new UpstreamPool({ baseUrl: url.origin, source });
    this.secrets = [key.clientEmail];
  }

  async token(call: UpstreamCall): Promise<string> {
    if (this.kept !== undefined && Date.now() < this.kept.renewAt) return this.kept.token;
    // One exchange for every caller that finds the token missing or stale at the same time.
    this.exchanging ??= this.exchange(call.requestId).finally(() => (this.exchanging = undefined));
    return this.exchanging;
  }

  rejected(token: string): void {
    if (this.kept?.token === token) this.kept = undefined;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private assertion(): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", ...(this.key.privateKeyId === undefined ? {} : { kid: this.key.privateKeyId }) };
    const claims = { iss: this.key.clientEmail, scope: this.scopes.join(" "), aud: this.audience, iat: now, exp: now + ASSERTION_SECONDS };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    return `${signingInput}.${base64url(sign("RSA-SHA256", Buffer.from(signingInput), this.key.privateKey))}`;
  }

  private async exchange(requestId: string): Promise<string> {
    const body = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: this.assertion() }).toString();
    const reply = await this.pool.forward({
      method: "POST", path: this.path, headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", "x-request-id": requestId }, body: Buffer.from(body),
      end: endOfSignal(AbortSignal.timeout(EXCHANGE_TIMEOUT_MS)), headersTimeoutMs: EXCHANGE_TIMEOUT_MS, bodyTimeoutMs: EXCHANGE_TIMEOUT_MS, requestId,
    }).catch((err: unknown) => {
      throw err instanceof GatewayError ? err : upstreamTimeoutError(this.source, "headers", err);
    });
    const text = (await readBody(reply.body, { maxBytes: TOKEN_BODY_LIMIT, overLimit: "truncate" }).catch(() => Buffer.alloc(0))).toString("utf8");
    if (reply.status < 200 || reply.status >= 300) {
      const detail = readUpstreamErrorDetail(oauthErrorAsMessage(text), undefined, this.secrets);
      const err = upstreamStatusError({ status: reply.status, message: `the service account's token exchange failed: ${detail.message ?? `HTTP ${reply.status}`}`, code: "token_exchange_failed", source: this.source });
      // Our credentials were refused, not the client's: the client sees a gateway-side failure.
      throw reply.status === 429 || reply.status >= 500 ? err : new GatewayError({ status: 502, type: "upstream_error", code: err.code, message: err.message, failure: "status", upstreamStatus: reply.status, source: this.source });
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (typeof parsed.access_token !== "string" || parsed.access_token.length === 0) {
      throw new GatewayError({ status: 502, type: "upstream_error", code: "token_exchange_failed", message: "the token endpoint answered without an access_token", failure: "status", upstreamStatus: 502, source: this.source });
    }
    const lifetimeMs = (typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : ASSERTION_SECONDS) * 1000;
    this.kept = { token: parsed.access_token, renewAt: Date.now() + lifetimeMs - RENEW_BEFORE_MS };
    return parsed.access_token;
  }
}

/** OAuth2 error bodies say what went wrong in error_description, their code in error (RFC 6749 5.2): as `{message}` for the shared reader. */
function oauthErrorAsMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error_description?: unknown };
    if (typeof parsed.error_description === "string") return JSON.stringify({ message: parsed.error_description });
  } catch {
    // Not JSON: the shared reader takes it as plain text.
  }
  return text;
}
