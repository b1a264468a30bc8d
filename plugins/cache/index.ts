/**
 * cache: answers a model request asked before without calling an upstream, and keeps the answers
 * of the ones it could not.
 *
 * Its seam is the plan hook, with no hook of its own in core: a hit turns the plan into one
 * attempt on a backend of the step's own that replays the kept answer in the client's format
 * (replay.ts), so the core writes it as any reply, stream or whole; a miss wraps the planned
 * backends' providers so the reply's bytes are kept as they pass (capture.ts), read into IR once
 * the request settled, and stored. Concurrent identical misses in this instance wait, in the plan
 * hook, for the first one's answer: one upstream call. Across instances sharing a Redis store each
 * instance makes its own first call; later requests on any instance then hit.
 */
import { definePlugin, isObject, type Attempt, type Exchange, type IrRequest } from "../../core/index.js";
import { answerDryRun } from "../../lib/explain/dry-run.js";
import { answerOf } from "./answer.js";
import { ReplyCapture } from "./capture.js";
import type { CacheConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { replayBackend, type CachedAnswer } from "./replay.js";
import { clientDirectives, requestKey } from "./request-key.js";

const PLUGIN = "cache";
const CACHE_HEADER = "x-switchyard-cache";
/** The cost step's header: a hit cost nothing upstream, whatever the answer cost when it was fetched. */
const COST_HEADER = "x-switchyard-cost-usd";

/** A request this step looks up or stores: its entry's key, and whether it leads identical requests waiting for its answer. */
interface Cacheable {
  key: string;
  lead?: (answer: CachedAnswer | undefined) => void;
}

export default definePlugin<CacheConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Answers repeated model requests from a cache in the pipeline's store (per tenant, with a TTL), as streams or whole, in any client format; coalesces identical misses.",
  configSchema,
  create(config, env) {
    const ttlMs = (config.ttlSeconds ?? 300) * 1000;
    const shared = config.shared ?? false;
    const cacheSampled = config.cacheSampled ?? false;
    const maxEntryChars = config.maxEntryChars ?? 1024 * 1024;
    const store = env.store;
    const capture = new ReplyCapture(maxEntryChars);
    /** Misses being fetched in this instance, by key: identical requests wait for the answer instead of asking again. */
    const inflight = new Map<string, Promise<CachedAnswer | undefined>>();
    const cacheable = new WeakMap<Exchange, Cacheable>();
    const hits = new WeakMap<Exchange, CachedAnswer>();

    const mark = (x: Exchange, status: "hit" | "miss" | "bypass"): void => {
      x.cache = { status };
      x.responseHeaders[CACHE_HEADER] = status;
    };

    /** The request's key and IR, or undefined when it is not to be cached (no-store, sampled, not readable as IR). */
    const questionOf = (x: Exchange, attempts: Attempt[]): { key: string; ir: IrRequest } | undefined => {
      if (attempts.length === 0) return undefined;
      let ir: IrRequest;
      try {
        ir = x.ir ?? x.format.requestToIr(x.body, x.inbound);
      } catch {
        return undefined; // the translate step or the upstream says what is wrong with it
      }
      if (!cacheSampled && (ir.temperature ?? 0) > 0) return undefined;
      const scope = shared ? "shared" : `tenant:${encodeURIComponent(x.tenant ?? "")}`;
      return { key: `cache:${env.pipelineId}:${env.id}:${scope}:${requestKey(ir, attempts[0]!.model)}`, ir };
    };

    const read = async (x: Exchange, key: string): Promise<CachedAnswer | undefined> => {
      try {
        const kept = await store.get(key);
        if (kept === undefined) return undefined;
        const answer: unknown = JSON.parse(kept);
        // A value some other writer (or an older version) left under the key is a miss, never a broken reply.
        return isCachedAnswer(answer) ? answer : undefined;
      } catch (err) {
        x.notes.push(`cache: lookup failed (${String(err)}); treated as a miss`);
        return undefined;
      }
    };

    const hit = (x: Exchange, answer: CachedAnswer, ir: IrRequest): Attempt[] => {
      mark(x, "hit");
      hits.set(x, answer);
      // Until the usage hook prices the replayed usage: what the answer cost when it was fetched.
      x.cache = { status: "hit", savedCostUsd: answer.costUsd ?? null };
      x.costUsd = 0;
      return [{ backend: replayBackend(env.id, env.formats, answer, ir), model: answer.upstreamModel }];
    };

    const plan = async (attempts: Attempt[], x: Exchange): Promise<Attempt[]> => {
      const directives = clientDirectives(x.headers);
      const question = directives.store ? questionOf(x, attempts) : undefined;
      if (!question) {
        mark(x, "bypass");
        return attempts;
      }
      const { key, ir } = question;
      if (!directives.lookup) {
        // no-cache: fetched afresh, and the fresh answer replaces the kept one.
        mark(x, "bypass");
        cacheable.set(x, { key });
        return capture.start(x.id, attempts);
      }
      const running = inflight.get(key);
      if (running) {
        const answer = await untilAborted(running, x.signal);
        if (x.signal.aborted) throw x.signal.reason;
        if (answer) return hit(x, answer, ir);
        // The request waited on got no answer to keep (it failed, or the answer was too large): each
        // waiter now asks on its own, at once, rather than queueing behind a new leader one by one.
        mark(x, "miss");
        cacheable.set(x, { key });
        return capture.start(x.id, attempts);
      }
      // Registered before the first await, so identical requests arriving meanwhile wait for this one.
      let lead!: (answer: CachedAnswer | undefined) => void;
      inflight.set(key, new Promise((resolve) => (lead = resolve)));
      const kept = await read(x, key);
      if (kept) {
        inflight.delete(key);
        lead(kept);
        return hit(x, kept, ir);
      }
      mark(x, "miss");
      cacheable.set(x, { key, lead });
      return capture.start(x.id, attempts);
    };

    /** The miss's answer, read from its captured reply, when the request succeeded whole in one go. */
    const answerOfMiss = (x: Exchange): CachedAnswer | undefined => {
      const reply = capture.finish(x.id);
      // A stream broken on an earlier attempt may have been continued: its last reply is only the rest.
      const continued = x.attempts.slice(0, -1).some((a) => a.failure === "stream");
      if (!reply || x.status !== 200 || x.error || continued) return undefined;
      const bytes = reply.bytes();
      const translator = env.formats.get(reply.format);
      const response = bytes && translator ? answerOf(translator, reply.streamed, bytes) : undefined;
      if (!response) return undefined;
      return { response, upstreamModel: x.upstreamModel ?? x.model ?? response.model, costUsd: x.costUsd, storedAt: Date.now() };
    };

    const settle = async (x: Exchange): Promise<void> => {
      const entry = cacheable.get(x);
      if (!entry) return;
      cacheable.delete(x);
      const answer = answerOfMiss(x);
      if (entry.lead) {
        inflight.delete(entry.key);
        entry.lead(answer);
      }
      if (!answer) return;
      const kept = JSON.stringify(answer);
      if (kept.length > maxEntryChars) return;
      await store.set(entry.key, kept, ttlMs).catch((err: unknown) => env.log.warn({ request: x.id, err: String(err) }, "cache: storing an answer failed"));
    };

    return {
      apply(hooks) {
        hooks.plan.tapPromise(PLUGIN, plan);
        hooks.usage.tap(PLUGIN, (x) => {
          if (!hits.has(x)) return;
          zeroHitCost(x, hits.get(x)!);
          if (!x.headersSent && COST_HEADER in x.responseHeaders) x.responseHeaders[COST_HEADER] = "0";
        });
        hooks.settle.tapPromise(PLUGIN, async (x) => {
          // Again here: a cost step standing after this one priced the replayed usage after the usage tap above.
          if (hits.has(x)) zeroHitCost(x, hits.get(x)!);
          else await settle(x);
        });
        // explain: a lookup would wait on identical requests in flight; say so rather than take part.
        answerDryRun(hooks, env.id, ({ phase, plan: planned }) =>
          phase === "plan" ? { says: ["would answer from the cache on a hit; on a miss the plan stands and the answer is stored"], plan: planned as Attempt[] } : undefined,
        );
      },
    };
  },
});

function isCachedAnswer(value: unknown): value is CachedAnswer {
  if (!isObject(value) || typeof value.upstreamModel !== "string" || !isObject(value.response)) return false;
  const response = value.response;
  return typeof response.id === "string" && typeof response.model === "string" && Array.isArray(response.content) && typeof response.finishReason === "string";
}

/** A hit cost nothing upstream; what the cost step priced its replayed usage at (else what it cost when fetched) is what it saved. */
function zeroHitCost(x: Exchange, answer: CachedAnswer): void {
  const priced = x.costUsd;
  const saved = typeof priced === "number" && priced > 0 ? priced : (x.cache?.savedCostUsd ?? answer.costUsd ?? null);
  x.cache = { status: "hit", savedCostUsd: saved };
  x.costUsd = 0;
}

/** `running`'s answer, or undefined as soon as `signal` aborts (a waiting client that left). */
function untilAborted<T>(running: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const aborted = () => resolve(undefined);
    signal.addEventListener("abort", aborted, { once: true });
    void running.then((value) => {
      signal.removeEventListener("abort", aborted);
      resolve(value);
    });
  });
}
