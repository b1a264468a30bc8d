/**
 * Rate limits on requests, tokens and in-flight requests per key, tenant, model, header or
 * globally, in sliding windows of the pipeline's store. Everything a request takes in `validate`
 * is given back if a later rule refuses it, and settled in `settle`: token estimates corrected to
 * the real usage, concurrency slots released.
 */
import { createHash } from "node:crypto";
import { definePlugin, GatewayError, type Exchange, type StateStore, type WindowHit } from "../../core/index.js";
import { generatesOutput } from "../../lib/usage/generates-output.js";
import { answerDryRun, type WouldReserve } from "../../lib/explain/dry-run.js";
import { StoreOutagePolicy } from "../../lib/state/outage-policy.js";
import type { RatelimitConfig, Rule } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "ratelimit";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function windowMs(window: string | number): number {
  if (typeof window === "number") return window;
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(window);
  return Number(match?.[1]) * (UNIT_MS[match?.[2] ?? ""] ?? Number.NaN);
}

/** A duration the way OpenAI writes its reset headers (Go's time.Duration): 20ms, 1.5s, 6m0s, 1h2m3s. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = (total % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, "")}s`;
  return h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
}

/**
 * Worst-case tokens of a request: its output cap (any format's field) times choices, plus ~4 bytes
 * of JSON per prompt token. `generates` false (embeddings, token counts: see lib/usage/generates-output.ts)
 * counts the input alone: nothing is generated, so no output is reserved.
 */
export function estimateTokens(body: Record<string, unknown>, defaultMaxTokens: number, generates = true): number {
  const input = Math.ceil(JSON.stringify(body).length / 4);
  if (!generates) return input;
  const generation = (body.generationConfig ?? body.generation_config) as Record<string, unknown> | undefined;
  const caps = [body.max_completion_tokens, body.max_tokens, body.max_output_tokens, generation?.maxOutputTokens, generation?.max_output_tokens];
  const cap = caps.find((v): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0) ?? defaultMaxTokens;
  const choices = typeof body.n === "number" && body.n > 1 ? Math.floor(body.n) : 1;
  return input + cap * choices;
}

interface CompiledRule {
  name: string;
  by: string;
  subject: (exchange: Exchange) => string | undefined;
  requests?: { limit: number; windowMs: number; label: string };
  tokens?: { limit: number; windowMs: number; label: string };
  concurrent?: number;
}

/** Keys hold identifiers, not values a client chose freely: long or header-borne subjects are hashed. */
function keyPart(value: string, hashed: boolean): string {
  return hashed || value.length > 64 || !/^[\w.@:-]+$/.test(value) ? createHash("sha256").update(value).digest("hex").slice(0, 32) : value;
}

function compileRule(rule: Rule, index: number): CompiledRule {
  const name = rule.id ?? String(index);
  if (!rule.requests && !rule.tokens && rule.concurrent === undefined) {
    throw new Error(`${PLUGIN}: rule ${name} (by ${rule.by}) limits nothing: give requests, tokens or concurrent`);
  }
  const header = rule.by.startsWith("header:") ? rule.by.slice("header:".length).toLowerCase() : undefined;
  const subject = (exchange: Exchange): string | undefined => {
    if (header) {
      const v = exchange.headers[header];
      const value = Array.isArray(v) ? v.join(",") : v;
      return value ? keyPart(value, true) : undefined;
    }
    const value = rule.by === "global" ? "all" : rule.by === "key" ? exchange.keyId : rule.by === "tenant" ? exchange.tenant : exchange.model;
    return value === undefined || value === "" ? undefined : keyPart(value, false);
  };
  const limit = (l: { limit: number; window: string | number } | undefined) =>
    l && { limit: l.limit, windowMs: windowMs(l.window), label: typeof l.window === "number" ? formatDuration(l.window) : l.window };
  return { name, by: rule.by, subject, requests: limit(rule.requests), tokens: limit(rule.tokens), concurrent: rule.concurrent };
}

/** What a request holds until it is settled. */
type Hold =
  | { kind: "window"; key: string; windowMs: number; slot: number; cost: number; tokens: boolean }
  | { kind: "lease"; key: string; id: string };

interface Observed {
  limit: number;
  hit: WindowHit;
}

function rateLimited(message: string, code: string, retryAfterMs: number | undefined, headers: Record<string, string>): GatewayError {
  return new GatewayError({ status: 429, type: "rate_limit", code, message, retryAfterMs, headers, source: PLUGIN });
}

export default definePlugin<RatelimitConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Rate limits on requests, tokens and concurrency per key, tenant, model, header or globally (sliding windows, shared through the store)",
  configSchema,
  create(config, env) {
    const store: StateStore = env.store;
    const rules = config.rules.map(compileRule);
    const defaultMaxTokens = config.defaultMaxTokens ?? 1024;
    const leaseMs = config.concurrencyLeaseMs ?? 600_000;
    const outage = new StoreOutagePolicy(config.onUnavailable ?? store.onUnavailable, env.log, PLUGIN);
    const keyBase = `${PLUGIN}:${env.pipelineId}:${env.id}`;
    const held = new WeakMap<Exchange, { holds: Hold[]; estimate: number }>();

    async function giveBack(holds: Hold[], actual?: (hold: Hold & { kind: "window" }) => number): Promise<void> {
      await Promise.all(
        holds.map(async (hold) => {
          try {
            if (hold.kind === "lease") await store.release(hold.key, hold.id);
            else {
              const delta = (actual ? actual(hold) : 0) - hold.cost;
              if (delta !== 0) await store.adjustHit(hold.key, hold.windowMs, hold.slot, delta);
            }
          } catch (err) {
            outage.lost(err, hold.kind === "lease" ? "releasing a concurrency slot" : "settling a rate-limit window");
          }
        }),
      );
    }

    function setHeaders(exchange: Exchange, kind: "requests" | "tokens", seen: Observed | undefined): void {
      if (config.headers === false || !seen) return;
      exchange.responseHeaders[`x-ratelimit-limit-${kind}`] = String(seen.limit);
      exchange.responseHeaders[`x-ratelimit-remaining-${kind}`] = String(seen.hit.remaining);
      exchange.responseHeaders[`x-ratelimit-reset-${kind}`] = formatDuration(seen.hit.resetMs);
    }
    const tighter = (a: Observed | undefined, b: Observed) => (!a || b.hit.remaining / b.limit < a.hit.remaining / a.limit ? b : a);

    async function check(exchange: Exchange, holds: Hold[], estimate: number): Promise<GatewayError | undefined> {
      let requests: Observed | undefined;
      let tokens: Observed | undefined;
      const refuse = (message: string, code: string, retryAfterMs: number | undefined) => {
        setHeaders(exchange, "requests", requests);
        setHeaders(exchange, "tokens", tokens);
        const headers = Object.fromEntries(Object.entries(exchange.responseHeaders).filter(([k]) => k.startsWith("x-ratelimit-")));
        return rateLimited(message, code, retryAfterMs, headers);
      };
      for (const rule of rules) {
        const subject = rule.subject(exchange);
        if (subject === undefined) continue;
        const key = `${keyBase}:${rule.name}:${rule.by}:${subject}`;
        if (rule.requests) {
          const { limit, windowMs: w, label } = rule.requests;
          const hit = await store.hit(`${key}:requests`, w, limit, 1);
          requests = hit.allowed ? tighter(requests, { limit, hit }) : { limit, hit };
          if (!hit.allowed) return refuse(`Rate limit reached: ${limit} requests per ${label} by ${rule.by}. Retry after ${formatDuration(hit.retryAfterMs)}.`, "rate_limit_exceeded", hit.retryAfterMs);
          holds.push({ kind: "window", key: `${key}:requests`, windowMs: w, slot: hit.slot, cost: 1, tokens: false });
        }
        if (rule.tokens) {
          const { limit, windowMs: w, label } = rule.tokens;
          if (estimate > limit) {
            return refuse(`Request too large: it may use up to ${estimate} tokens, over the limit of ${limit} tokens per ${label} by ${rule.by}. Lower max_tokens or shorten the prompt.`, "request_too_large", undefined);
          }
          const hit = await store.hit(`${key}:tokens`, w, limit, estimate);
          tokens = hit.allowed ? tighter(tokens, { limit, hit }) : { limit, hit };
          if (!hit.allowed) return refuse(`Rate limit reached: ${limit} tokens per ${label} by ${rule.by}. Retry after ${formatDuration(hit.retryAfterMs)}.`, "rate_limit_exceeded", hit.retryAfterMs);
          holds.push({ kind: "window", key: `${key}:tokens`, windowMs: w, slot: hit.slot, cost: estimate, tokens: true });
        }
        if (rule.concurrent !== undefined) {
          const lease = await store.acquire(`${key}:concurrent`, rule.concurrent, leaseMs);
          if (!lease.acquired) return refuse(`Too many concurrent requests: at most ${rule.concurrent} at once by ${rule.by}.`, "concurrency_limit_exceeded", 1000);
          holds.push({ kind: "lease", key: `${key}:concurrent`, id: lease.id });
        }
      }
      setHeaders(exchange, "requests", requests);
      setHeaders(exchange, "tokens", tokens);
      return undefined;
    }

    /**
     * For explain: what `check` would take and whether it would refuse, read from the store with
     * zero-cost hits (a window checked against `limit - cost` says whether `cost` would fit).
     * Concurrency slots cannot be read without taking one: they are listed as taken.
     */
    async function preview(exchange: Exchange, estimate: number): Promise<{ reserves: WouldReserve[]; refusal?: GatewayError }> {
      const reserves: WouldReserve[] = [];
      for (const rule of rules) {
        const subject = rule.subject(exchange);
        if (subject === undefined) continue;
        const key = `${keyBase}:${rule.name}:${rule.by}:${subject}`;
        const who = rule.by === "global" ? "global" : rule.by.startsWith("header:") ? `${rule.by} (hashed)` : `${rule.by} ${subject}`;
        for (const unit of ["requests", "tokens"] as const) {
          const limit = rule[unit];
          if (!limit) continue;
          const cost = unit === "requests" ? 1 : estimate;
          const hit = cost > limit.limit ? undefined : await store.hit(`${key}:${unit}`, limit.windowMs, limit.limit - cost, 0);
          const fits = hit?.allowed ?? false;
          reserves.push({ rule: rule.name, subject: who, unit, amount: cost, limit: limit.limit, used: hit?.count, per: limit.label, fits });
          if (fits) continue;
          const message = hit === undefined
            ? `Request too large: it may use up to ${estimate} tokens, over the limit of ${limit.limit} tokens per ${limit.label} by ${rule.by}. Lower max_tokens or shorten the prompt.`
            : `Rate limit reached: ${limit.limit} ${unit} per ${limit.label} by ${rule.by}. Retry after ${formatDuration(hit.retryAfterMs)}.`;
          return { reserves, refusal: rateLimited(message, hit === undefined ? "request_too_large" : "rate_limit_exceeded", hit?.retryAfterMs, {}) };
        }
        if (rule.concurrent !== undefined) reserves.push({ rule: rule.name, subject: who, unit: "concurrent", amount: 1, limit: rule.concurrent, fits: true });
      }
      return { reserves };
    }

    return {
      apply(hooks) {
        answerDryRun(hooks, env.id, async (question, exchange) => {
          if (question.phase !== "validate") return undefined;
          const estimate = rules.some((r) => r.tokens) ? estimateTokens(exchange.body, defaultMaxTokens, generatesOutput(exchange)) : 0;
          const { reserves, refusal } = await preview(exchange, estimate);
          const says = reserves.map((r) => `${r.fits ? "would take" : "REFUSES:"} ${r.amount} ${r.unit} of ${r.limit}${r.per ? ` per ${r.per}` : " at once"} by ${r.subject}${r.used === undefined ? "" : ` (${r.used} used)`}`);
          if (says.length === 0) says.push("no rule applies to this request");
          return { says, reserves, refusal };
        });
        hooks.validate.tapPromise(PLUGIN, async (exchange) => {
          const holds: Hold[] = [];
          const estimate = rules.some((r) => r.tokens) ? estimateTokens(exchange.body, defaultMaxTokens, generatesOutput(exchange)) : 0;
          try {
            const refusal = await check(exchange, holds, estimate);
            if (refusal) {
              await giveBack(holds);
              return refusal;
            }
            held.set(exchange, { holds, estimate });
            return undefined;
          } catch (err) {
            await giveBack(holds);
            return outage.decide(err, exchange);
          }
        });

        hooks.settle.tapPromise(PLUGIN, async (exchange) => {
          const state = held.get(exchange);
          if (!state) return;
          held.delete(exchange);
          const usage = exchange.usage;
          // Without usage, a request no backend answered used nothing; one that was answered keeps its estimate.
          const answered = exchange.attempts.some((a) => a.status !== undefined && a.status < 400);
          const actualTokens = usage ? usage.inputTokens + usage.outputTokens : answered ? state.estimate : 0;
          await giveBack(state.holds, (hold) => (hold.tokens ? actualTokens : hold.cost));
        });
      },
    };
  },
});
