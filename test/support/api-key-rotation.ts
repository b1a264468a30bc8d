/**
 * The apiKeys behaviour every network provider shares (lib/upstream/credentials.ts behind each one), as a
 * suite each provider's tests run against a real local upstream that records the key each request
 * carried: rotation, a 429 moving the same call on to the next key, a 401 benching a key, every key
 * cooling, and no key in errors or logs.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, type Logger, type Provider, type ProviderPlugin, type UpstreamCall } from "../../core/index.js";
import { silentLogger } from "../../lib/log.js";
import { createTestProvider } from "../../testkit/index.js";
import { startOpenAiUpstream, type OpenAiUpstream, type UpstreamBehaviour } from "./upstream-openai.js";

export const KEYS = ["sk-rotation-key-ONE-0123456789", "sk-rotation-key-TWO-0123456789", "sk-rotation-key-THREE-012345678"];

export interface ApiKeyRotationSubject {
  plugin: ProviderPlugin<any>;
  /** The provider config for `upstream`, without keys. */
  config(upstream: OpenAiUpstream): Record<string, unknown>;
  /** The key a request carried, read from the provider's auth header. */
  keyOf(headers: IncomingHttpHeaders): string | undefined;
  call(): UpstreamCall;
}

async function drain(body: Readable): Promise<void> {
  for await (const _ of body);
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(() => expect.unreachable("expected the call to fail"), (e: unknown) => e);
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

const tooMany = (retryAfter?: string): UpstreamBehaviour => ({ error: { status: 429, headers: retryAfter === undefined ? {} : { "retry-after": retryAfter } } });

export function apiKeyRotationSuite(subject: ApiKeyRotationSubject): void {
  describe(`${subject.plugin.name} with apiKeys`, () => {
    let upstream: OpenAiUpstream;
    const providers: Provider[] = [];

    beforeAll(async () => {
      upstream = await startOpenAiUpstream();
    });
    afterAll(() => upstream.close());
    afterEach(async () => {
      await Promise.all(providers.splice(0).map((p) => p.close()));
      upstream.requests.length = 0;
    });

    async function provider(config: Record<string, unknown> = {}, log: Logger = silentLogger): Promise<Provider> {
      // Every path answers 200 with a small JSON body: the provider hands replies on unread.
      upstream.set({ error: { status: 200, body: { ok: true } } });
      const p = await createTestProvider(subject.plugin, { ...subject.config(upstream), apiKeys: KEYS, ...config }, { log });
      providers.push(p);
      return p;
    }

    const keysSeen = () => upstream.requests.map((r) => subject.keyOf(r.headers));
    const send = async (p: Provider) => drain((await p.send(subject.call())).body);

    it("sends the calls with the keys in turn, round-robin", async () => {
      const p = await provider();
      for (let i = 0; i < 4; i++) await send(p);
      expect(keysSeen()).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[0]]);
    });

    it("moves the same call on to the next key after a 429 and leaves the cooling key out", async () => {
      const p = await provider();
      upstream.queue(tooMany("30"));
      await send(p);
      expect(keysSeen()).toEqual([KEYS[0], KEYS[1]]);
      await send(p);
      await send(p);
      expect(keysSeen()).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[1]]);
    });

    it("puts a key back in rotation once its cooldown (keyRateLimitCooldownMs without retry-after) is over", async () => {
      const p = await provider({ keyRateLimitCooldownMs: 200 });
      upstream.queue(tooMany());
      await send(p);
      await new Promise((r) => setTimeout(r, 250));
      await send(p);
      await send(p);
      expect(keysSeen()).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[0]]);
    });

    it("benches a key the upstream rejects with 401 and logs it by number, never by value", async () => {
      const lines: string[] = [];
      const log = { ...silentLogger, warn: (obj: unknown, msg: string) => void lines.push(JSON.stringify({ obj, msg })), debug: () => {} } as unknown as Logger;
      const p = await provider({}, log);
      upstream.queue({}, { error: { status: 401, body: { error: { message: `Incorrect API key provided: ${KEYS[1]}`, type: "invalid_request_error", code: "invalid_api_key" } } } });
      await send(p);
      await send(p);
      await send(p);
      await send(p);
      expect(keysSeen()).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[0], KEYS[2]]);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("#2 of 3");
      for (const key of KEYS) expect(lines[0]).not.toContain(key);
    });

    it("fails with a 429 and the soonest key's retry-after when every key is rate-limited, then without asking the upstream", async () => {
      const p = await provider();
      upstream.queue(tooMany("40"), tooMany("20"), tooMany("30"));
      const first = await failure(p.send(subject.call()));
      expect(first).toMatchObject({ status: 429, type: "rate_limit", failure: "status", upstreamStatus: 429 });
      expect(first.retryAfterMs).toBeGreaterThan(19_000);
      expect(first.retryAfterMs).toBeLessThanOrEqual(20_000);
      expect(keysSeen()).toEqual(KEYS);

      const next = await failure(p.send(subject.call()));
      expect(next).toMatchObject({ status: 429, code: "api_keys_cooling", upstreamStatus: 429 });
      expect(next.retryAfterMs).toBeLessThanOrEqual(20_000);
      expect(upstream.requests).toHaveLength(3);
    });

    it("passes other failures on without trying another key or benching this one", async () => {
      const p = await provider();
      upstream.queue({ error: { status: 500 } });
      expect(await failure(p.send(subject.call()))).toMatchObject({ upstreamStatus: 500 });
      await send(p);
      await send(p);
      await send(p);
      expect(keysSeen()).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[0]]);
    });

    it("scrubs every one of its keys from upstream error messages", async () => {
      const p = await provider();
      upstream.queue({ error: { status: 400, body: { error: { message: `bad request for ${KEYS.join(" and ")}`, type: "invalid_request_error" } } } });
      const err = await failure(p.send(subject.call()));
      for (const key of KEYS) expect(err.message).not.toContain(key);
    });

    it("refuses apiKey and apiKeys together", async () => {
      await expect(createTestProvider(subject.plugin, { ...subject.config(upstream), apiKey: "sk-single-0123", apiKeys: KEYS })).rejects.toThrow(`${subject.plugin.name}: set apiKey or apiKeys, not both`);
    });
  });
}
