// The "cache" scenario: what the cache step saves on a hit and costs on a miss, against the floor
// (a bare undici proxy, which always asks the upstream). switchyard serves
// bench/pipelines/cache.pipeline.json, the chat pipeline with the cache step after cost.
// `hit`: the same small chat request every time, so after the first every request is answered from
// the memory store without an upstream call. `miss`: the same request with `cache-control:
// no-cache`, so every request skips the lookup, goes upstream, and its captured answer is stored:
// the whole miss path (plan tap, capture, IR decode, store) on every request.

import { BENCH_KEY, sizedModel } from "./scenarios.mjs";

const HEADERS = { "content-type": "application/json", authorization: `Bearer ${BENCH_KEY}` };

function cachedChat(extraHeaders = {}) {
  return {
    method: "POST",
    path: "/v1/chat/completions",
    headers: { ...HEADERS, ...extraHeaders },
    body: { model: sizedModel(1024), messages: [{ role: "user", content: "Say hello in five words." }] },
    check: (text) => {
      try {
        return typeof JSON.parse(text).choices?.[0]?.message?.content === "string" ? null : `no choices[0].message.content: ${text.slice(0, 200)}`;
      } catch {
        return `not JSON: ${text.slice(0, 200)}`;
      }
    },
  };
}

export function scenarios() {
  return [
    {
      id: "cache",
      title: "cache step: a 1 KB chat reply answered from the cache (hit) vs fetched and stored every time (miss, cache-control: no-cache)",
      pipeline: "cache",
      variants: [
        { id: "hit", kind: "load", request: cachedChat(), bar: {} },
        { id: "miss", kind: "load", request: cachedChat({ "cache-control": "no-cache" }), bar: {} },
      ],
    },
  ];
}
