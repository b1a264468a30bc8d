/**
 * responses-state: the OpenAI Responses API's state (`store`, `previous_response_id`, retrieval)
 * for backends that do not keep it, Claude, Gemini and Chat Completions servers. Each response the
 * gateway translated for a Responses client is kept, in the Responses wire shape, under the
 * caller's tenant; a request naming it as `previous_response_id` is rebuilt as the whole
 * conversation before it is translated. Same-format attempts (a Responses backend) never reach
 * the translate hook, so their body, id included, passes through untouched.
 *
 * It wraps the translation rather than making one: its translate tap stands before the translate
 * step's, readies the IR, asks the hook's later taps for the translation, and keeps what it writes.
 */
import { definePlugin, GatewayError, isObject, StoreUnavailableError, type Exchange, type StateStore, type Translation, type WireObject } from "../../core/index.js";
import { createMemoryStore } from "../../lib/state/memory.js";
import { SseParser } from "../../lib/wire/sse.js";
import type { ResponsesStateConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { inputItems, keyOf, listedItems, parseKept, type KeptResponse } from "./kept-response.js";

const PLUGIN = "responses-state";
const FORMAT = "openai-responses";
/** OpenAI's retention, and this step's default. */
const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;
/** The stream events that carry the finished response object. */
const FINAL_EVENTS = new Set(["response.completed", "response.incomplete"]);

function notFound(id: string, param: string | undefined): GatewayError {
  return new GatewayError({ status: 404, type: "not_found", code: "response_not_found", param, message: `Response with id '${id}' not found.`, source: PLUGIN });
}

export default definePlugin<ResponsesStateConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Keeps OpenAI Responses state for any backend: store, previous_response_id, and GET/DELETE /v1/responses/:id and its input_items, per tenant.",
  configSchema,
  endpoints: {
    "responses-get": { description: "a kept response by id (GET /v1/responses/:id)", body: "handler", formats: [FORMAT] },
    "responses-delete": { description: "forgets a kept response (DELETE /v1/responses/:id)", body: "handler", formats: [FORMAT] },
    "responses-input-items": { description: "the input items of a kept response (GET /v1/responses/:id/input_items)", body: "handler", formats: [FORMAT] },
  },
  create(config, env) {
    const store: StateStore = config.store === "memory" ? createMemoryStore() : env.store;
    const ttlMs = (config.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000;
    const storeByDefault = config.storeByDefault ?? true;
    /** The response each request continues, read in validate (the translate hook is synchronous). */
    const continued = new WeakMap<Exchange, KeptResponse | undefined>();
    const translating = new WeakSet<Exchange>();

    async function read(key: string): Promise<KeptResponse | undefined> {
      try {
        return parseKept(await store.get(key));
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        throw new GatewayError({ status: 503, type: "unavailable", code: "state_unavailable", message: "kept responses cannot be read right now", source: PLUGIN });
      }
    }

    function keep(x: Exchange, prior: unknown[], response: WireObject): void {
      if (typeof response.id !== "string") return;
      const input = inputItems(x.body.input);
      const output = Array.isArray(response.output) ? response.output : [];
      const kept: KeptResponse = { input: listedItems(input), conversation: [...prior, ...input, ...output], response };
      store.set(keyOf(x.tenant, response.id), JSON.stringify(kept), ttlMs).catch((err: unknown) => {
        env.log.warn({ err: err instanceof Error ? err.message : String(err), response: response.id }, `${PLUGIN}: a response could not be kept`);
      });
    }

    /** The IR of the whole conversation: the continued response's, then the client's own input. */
    function readyIr(x: Exchange): unknown[] {
      const id = x.body.previous_response_id;
      let prior: unknown[] = [];
      if (typeof id === "string") {
        const kept = continued.get(x);
        if (kept === undefined) throw notFound(id, "previous_response_id");
        prior = kept.conversation;
      }
      if (x.ir === undefined) {
        // Honoured here, so not fields the translate step should drop or refuse.
        const { previous_response_id: _id, store: _store, ...rest } = x.body;
        x.ir = x.format.requestToIr(prior.length === 0 ? rest : { ...rest, input: [...prior, ...inputItems(x.body.input)] }, x.inbound);
      }
      return prior;
    }

    function keeping(x: Exchange, prior: unknown[], t: Translation): Translation {
      const previous = typeof x.body.previous_response_id === "string" ? x.body.previous_response_id : null;
      const stateful = (response: WireObject): WireObject => ({ ...response, previous_response_id: previous, store: true });
      return {
        body: t.body,
        response(upstreamBody) {
          const out = t.response(upstreamBody);
          if (!isObject(out.body)) return out;
          const body = stateful(out.body);
          keep(x, prior, body);
          return { ...out, body };
        },
        stream(write, outcome) {
          const parser = new SseParser((event) => {
            if (event.event === undefined || !FINAL_EVENTS.has(event.event)) return;
            const data: unknown = JSON.parse(event.data);
            if (isObject(data) && isObject(data.response)) keep(x, prior, stateful(data.response));
          });
          return t.stream((text) => {
            write(text);
            parser.push(text);
          }, outcome);
        },
      };
    }

    async function kept(x: Exchange): Promise<{ id: string; key: string; kept: KeptResponse }> {
      const id = x.inbound.params.id;
      if (id === undefined || id === "") throw GatewayError.invalidRequest("the path names no response id", "response_id");
      const key = keyOf(x.tenant, id);
      const found = await read(key);
      if (found === undefined) throw notFound(id, "response_id");
      return { id, key, kept: found };
    }

    return {
      apply(hooks) {
        hooks.validate.tapPromise(PLUGIN, async (x) => {
          if (x.route.endpoint !== "generate" || x.route.format !== FORMAT) return undefined;
          const id = x.body.previous_response_id;
          if (typeof id === "string") continued.set(x, await read(keyOf(x.tenant, id)));
          return undefined;
        });

        hooks.translate.tap(PLUGIN, (x, attempt, backendFormat) => {
          if (x.route.format !== FORMAT || translating.has(x)) return undefined;
          const prior = readyIr(x);
          let translation: Translation | undefined;
          translating.add(x);
          try {
            translation = hooks.translate.call(x, attempt, backendFormat);
          } finally {
            translating.delete(x);
          }
          const wanted = x.body.store === true || (x.body.store !== false && storeByDefault);
          return translation === undefined || !wanted ? translation : keeping(x, prior, translation);
        });

        hooks.endpoint.for("responses-get").tapPromise(PLUGIN, async (x) => ({ status: 200, body: (await kept(x)).kept.response }));

        hooks.endpoint.for("responses-delete").tapPromise(PLUGIN, async (x) => {
          const { id, key } = await kept(x);
          await store.delete(key);
          return { status: 200, body: { id, object: "response", deleted: true } };
        });

        hooks.endpoint.for("responses-input-items").tapPromise(PLUGIN, async (x) => ({ status: 200, body: page((await kept(x)).kept.input, x.inbound.query) }));
      },
    };
  },
});

/** A page of input items as OpenAI lists them: newest first unless `order=asc`, `limit` (1-100, 20), after an item id. */
function page(items: WireObject[], query: Readonly<Record<string, string | string[] | undefined>>): WireObject {
  const one = (name: string): string | undefined => (Array.isArray(query[name]) ? query[name][0] : (query[name] as string | undefined));
  const order = one("order") ?? "desc";
  if (order !== "asc" && order !== "desc") throw GatewayError.invalidRequest("order must be asc or desc", "order");
  const limitText = one("limit") ?? "20";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw GatewayError.invalidRequest("limit must be an integer from 1 to 100", "limit");
  let list = order === "asc" ? items : [...items].reverse();
  const after = one("after");
  if (after !== undefined) {
    const at = list.findIndex((item) => item.id === after);
    if (at < 0) throw GatewayError.invalidRequest(`after names no input item of this response: ${after}`, "after");
    list = list.slice(at + 1);
  }
  const data = list.slice(0, limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: list.length > limit };
}
