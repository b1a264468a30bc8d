/**
 * auth-api-key: identifies the caller by an API key checked against a file of SHA-256 hashes.
 * The key itself is hashed on arrival and never stored, logged or echoed. A key's role keeps
 * admin routes (the usage API) and model routes apart; `switchyard keys` and the admin API (the
 * key-admin question, lib/auth/key-admin.ts) manage the file.
 */
import { hash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { definePlugin, GatewayError, type Exchange, type Answer } from "../../core/index.js";
import type { AuthApiKeyConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { addKeyTo, createKeysCommand, disableKeyIn, listKeysIn } from "./keys-command.js";
import { answerKeyAdmin, type KeyAdmin } from "../../lib/auth/key-admin.js";
import { followKeysFile, loadKeysFile, type KeyTable } from "./keys-file.js";
import { markCredentialHeaders } from "../../lib/auth/credential-headers.js";

const PLUGIN = "auth-api-key";
const BEARER = /^Bearer[ \t]+(\S.*)$/i;

export default definePlugin<AuthApiKeyConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Checks an API key (Authorization: Bearer, x-api-key, x-goog-api-key) against hashed keys; sets tenant and keyId.",
  configSchema,
  commands: { keys: createKeysCommand() },
  // The same read and checks as create's, so that check refuses what serve would.
  async check(config, env) {
    await loadKeysFile(env.resolvePath(config.keysFile));
  },
  async create(config, env) {
    const path = env.resolvePath(config.keysFile);
    const log = env.log.child({ step: env.id, plugin: PLUGIN });
    const headerNames = (config.headers ?? ["authorization", "x-api-key", "x-goog-api-key"]).map((h) => h.toLowerCase());
    let keys: KeyTable = await loadKeysFile(path);
    const reloadIntervalMs = config.reloadIntervalMs ?? 2000;
    const stopFollowing = reloadIntervalMs > 0 ? followKeysFile(path, reloadIntervalMs, log, (table) => (keys = table)) : undefined;

    const unauthorized = (code: string, message: string) =>
      new GatewayError({ status: 401, type: "authentication", code, message, source: PLUGIN, headers: { "www-authenticate": "Bearer" } });
    const forbidden = (code: string, message: string, param?: string) =>
      new GatewayError({ status: 403, type: "permission", code, message, param, source: PLUGIN });
    const missingMessage = `missing API key: send it as ${headerNames.map((h) => (h === "authorization" ? "Authorization: Bearer <key>" : `${h}: <key>`)).join(" or ")}`;

    function authenticate(exchange: Exchange): Answer | undefined {
      // Every header a key is looked for in, not only the one that carried it: a second one may
      // hold another gateway key, and none of them is meant for an upstream.
      markCredentialHeaders(exchange, headerNames);
      const presented = presentedKey(exchange.headers, headerNames);
      if (presented === undefined) return unauthorized("missing_api_key", missingMessage);
      // One-shot hash: half the cost of a createHash object, on every request.
      const digest = hash("sha256", presented, "buffer");
      // The lookup is keyed by the digest, so its timing says nothing usable about the key; the
      // final comparison is constant-time all the same.
      const entry = keys.get(digest.toString("hex"));
      if (!entry || !timingSafeEqual(entry.digest, digest)) return unauthorized("invalid_api_key", "invalid API key");
      if (entry.disabled) return unauthorized("key_disabled", "this API key is disabled");
      if (entry.expiresAtMs !== undefined && Date.now() >= entry.expiresAtMs) return unauthorized("key_expired", "this API key has expired");
      // Known caller from here on: records of a refused model still say whose request it was.
      exchange.tenant = entry.tenant;
      exchange.keyId = entry.id;
      exchange.role = entry.role;
      if (entry.pipelines && !entry.pipelines.has(exchange.pipelineId)) {
        return forbidden("pipeline_not_allowed", `this API key may not be used on pipeline "${exchange.pipelineId}"`);
      }
      // An admin route refuses non-admin callers in the core (fail closed for any auth step); this
      // step's own rule is the other half: its admin keys work on admin routes only.
      if (exchange.route.admin !== true && entry.role === "admin") {
        return forbidden("client_key_required", "admin API keys are accepted on admin routes only; use a client key for model requests");
      }
      const model = exchange.model;
      if (entry.models && model !== undefined && !entry.models.some((matches) => matches(model))) {
        return forbidden("model_not_allowed", `this API key may not use model "${model}"`, "model");
      }
      return undefined;
    }

    // The admin API's key management, over this step's file: one change at a time (each is a
    // read-modify-write), and the table reloaded at once so a new or disabled key counts from the reply on.
    let changing: Promise<unknown> = Promise.resolve();
    const change = <T>(work: () => Promise<T>): Promise<T> => {
      const next = changing.then(work).then(async (result) => ((keys = await loadKeysFile(path)), result));
      changing = next.catch(() => undefined);
      return next;
    };
    const keyAdmin: KeyAdmin = {
      list: () => listKeysIn(path, Date.now()),
      add: (spec) => change(() => addKeyTo(path, spec, Date.now())),
      disable: (id) => change(() => disableKeyIn(path, id)),
    };

    return {
      apply(hooks) {
        hooks.auth.tap(PLUGIN, authenticate);
        answerKeyAdmin(hooks, PLUGIN, keyAdmin);
      },
      async close() {
        stopFollowing?.();
      },
    };
  },
});

/** The key from the first configured header that carries one. */
function presentedKey(headers: IncomingHttpHeaders, names: readonly string[]): string | undefined {
  for (const name of names) {
    const raw = headers[name];
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (!value) continue;
    if (name === "authorization") {
      const bearer = BEARER.exec(value);
      if (bearer) return bearer[1]!.trim();
      continue;
    }
    return value;
  }
  return undefined;
}
