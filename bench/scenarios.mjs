// The bench scenarios: what each sends, how each is measured, and the bar each is held to.
// Floor and gateway get the very same request; the upstream answers OpenAI chat on
// /v1/chat/completions and Anthropic Messages on /v1/messages, so the floor always has a
// same-format upstream to pass bytes to, while switchyard translates (Anthropic to OpenAI in the
// `anthropic` scenario, OpenAI to Anthropic in `to-anthropic`).

/** The bench's client key; bench/pipelines/keys.json holds its sha256. Not a secret. */
export const BENCH_KEY = "sk-bench-switchyard-0001";

const HEADERS = {
  "content-type": "application/json",
  authorization: `Bearer ${BENCH_KEY}`,
  "x-api-key": BENCH_KEY,
  "anthropic-version": "2023-06-01",
};
const MESSAGES = [{ role: "user", content: "Say hello in five words." }];

/**
 * `marker`: the text that ends a complete stream. `check(text)`: the reply body is what the
 * client format promises (null when it is, else what is wrong); run once per target before load,
 * because autocannon only counts status codes.
 */
const chat = (extra = {}) => ({
  method: "POST",
  path: "/v1/chat/completions",
  headers: HEADERS,
  body: { model: "bench-small", messages: MESSAGES, ...extra },
  marker: extra.stream ? "data: [DONE]" : undefined,
  check: extra.stream
    ? (text) => (text.includes('"delta"') && text.includes("data: [DONE]") ? null : "not an OpenAI chat stream ending in [DONE]")
    : jsonCheck((b) => typeof b.choices?.[0]?.message?.content === "string", "no choices[0].message.content"),
});

const anthropic = (extra = {}) => ({
  method: "POST",
  path: "/v1/messages",
  headers: HEADERS,
  body: { model: "bench-small", max_tokens: 64, messages: MESSAGES, ...extra },
  marker: extra.stream ? "message_stop" : undefined,
  check: extra.stream
    ? (text) => (text.includes("content_block_delta") && text.includes("message_stop") ? null : "not an Anthropic stream ending in message_stop")
    : jsonCheck((b) => b.type === "message" && typeof b.content?.[0]?.text === "string", "no Anthropic message with content[0].text"),
});

const smallGet = {
  method: "GET",
  path: "/small",
  headers: {},
  check: jsonCheck((b) => b.ok === true, "not the upstream's /small body"),
};

function jsonCheck(test, problem) {
  return (text) => {
    try {
      return test(JSON.parse(text)) ? null : `${problem}: ${text.slice(0, 200)}`;
    } catch {
      return `not JSON: ${text.slice(0, 200)}`;
    }
  };
}

/**
 * A stream of `chunks` content chunks, `delayMs` apart: the upstream reads the shape from the
 * model name. `perEvent`: every SSE event in its own write (a turn of the event loop apart when
 * `delayMs` is 0), as a real provider sends them; otherwise the whole stream in one write when
 * `delayMs` is 0.
 */
export const streamModel = (chunks, delayMs = 0, perEvent = false) => `bench-c${chunks}-d${delayMs}${perEvent ? "-e" : ""}`;
/** A plain reply of about `bytes` bytes (the upstream pads its text). */
export const sizedModel = (bytes) => `bench-b${bytes}`;

/** Load at the floor's measured maximum (`max`) and at half of it (`@50%`), judged on CPU per request. */
const maxAndHalf = (request, cpuRatioMin, extra = {}) => [
  { id: "max", kind: "load", request, bar: { cpuRatioMin }, ...extra },
  { id: "@50%", kind: "load", rateOf: { variant: "max", share: 0.5 }, request, bar: { cpuRatioMin }, ...extra },
];

/**
 * Variant kinds: "load" (autocannon at max rate, a fixed `rate`, or `rateOf` a share of the
 * floor's median req/s in another variant of the same scenario, run first), "ttfb" (own undici
 * client, one stream at a time), "hold" (N slow streams open at once), "soak" (one long run,
 * memory at a checkpoint and at the end). `connections` overrides --connections for a variant.
 * Bars: cpuRatioMin (the floor's CPU per request over the target's), ratioMin (req/s vs floor),
 * addedP99MaxMs / addedP50MaxMs (latency over the floor's), perStreamKBMax (RSS per open
 * stream), growthMaxPct (soak RSS). A scenario with `unpinned` runs every process wherever the
 * scheduler puts it, even when the others are pinned.
 *
 * Each module listed in run.mjs exports `scenarios(opts)`; ids must be unique across modules,
 * numbers are given in list order.
 */
export function scenarios(opts) {
  const slowChunks = Math.max(2, Math.ceil((opts.holdSec * 1000) / opts.chunkMs));
  const eventStream = streamModel(50, 0, true);
  const pacedStream = streamModel(50, 1, true);
  return [
    {
      id: "chat",
      title: "chat, non-streaming, 1 KB reply (auth, validate, round-robin, translate, cost, record)",
      pipeline: "chat",
      variants: [
        ...maxAndHalf(chat({ model: sizedModel(1024) }), 0.85),
        { id: `@${opts.rate}/s`, kind: "load", rate: opts.rate, request: chat({ model: sizedModel(1024) }), bar: { addedP99MaxMs: 1 } },
      ],
    },
    {
      id: "chat-20k",
      title: "the same with a 20 KB reply",
      pipeline: "chat",
      variants: maxAndHalf(chat({ model: sizedModel(20480) }), 0.85),
    },
    {
      id: "stream",
      title: "stream:true, 50 chunks, the upstream writing each SSE event on its own, back to back",
      pipeline: "chat",
      variants: [
        ...maxAndHalf(chat({ model: eventStream, stream: true }), 0.85),
        { id: "ttfb", kind: "ttfb", request: chat({ model: eventStream, stream: true }), bar: { addedP50MaxMs: 0.5 } },
      ],
    },
    {
      id: "stream-paced",
      title: "the same with 1 ms between events (each event its own read at the gateway), 128 connections",
      pipeline: "chat",
      variants: maxAndHalf(chat({ model: pacedStream, stream: true }), 0.85, { connections: 128 }),
    },
    {
      id: "stream-burst",
      title: "stream:true, 50 chunks, the whole stream in one upstream write (the cheapest upstream)",
      pipeline: "chat",
      variants: [{ id: "max", kind: "load", request: chat({ model: streamModel(50), stream: true }), bar: { cpuRatioMin: 0.85 } }],
    },
    {
      id: "anthropic",
      title: "translated: Anthropic Messages in, OpenAI-compatible upstream (streams written per event)",
      pipeline: "chat",
      variants: [
        ...maxAndHalf(anthropic(), 0.7).map((v) => ({ ...v, id: `plain ${v.id}`, ...(v.rateOf ? { rateOf: { ...v.rateOf, variant: "plain max" } } : {}) })),
        ...maxAndHalf(anthropic({ model: eventStream, stream: true }), 0.7).map((v) => ({ ...v, id: `stream ${v.id}`, ...(v.rateOf ? { rateOf: { ...v.rateOf, variant: "stream max" } } : {}) })),
      ],
    },
    {
      id: "to-anthropic",
      title: "translated the other way: OpenAI chat in, Anthropic Messages upstream (streams written per event)",
      pipeline: "to-anthropic",
      variants: [
        ...maxAndHalf(chat(), 0.7).map((v) => ({ ...v, id: `plain ${v.id}`, ...(v.rateOf ? { rateOf: { ...v.rateOf, variant: "plain max" } } : {}) })),
        ...maxAndHalf(chat({ model: eventStream, stream: true }), 0.7).map((v) => ({ ...v, id: `stream ${v.id}`, ...(v.rateOf ? { rateOf: { ...v.rateOf, variant: "stream max" } } : {}) })),
      ],
    },
    {
      id: "http",
      title: "plain HTTP pipeline proxying a small GET",
      pipeline: "http",
      optionalPipeline: 'route format "http" not available yet',
      variants: maxAndHalf(smallGet, 0.9),
    },
    {
      id: "hold",
      title: `${opts.streams} slow streams held open (a chunk every ${opts.chunkMs} ms, ${slowChunks} chunks)`,
      pipeline: "chat",
      variants: [
        {
          id: `N=${opts.streams}`,
          kind: "hold",
          request: chat({ model: streamModel(slowChunks, opts.chunkMs), stream: true }),
          // Same chunk count, 1 ms apart: the per-chunk path is warm without holding anything open.
          warmupRequest: chat({ model: streamModel(slowChunks, 1), stream: true }),
          bar: { perStreamKBMax: 35 },
        },
      ],
    },
    {
      id: "chat-nopin",
      title: "scenario 1 at max with nothing pinned (the scheduler places every process, as a user's wrk run would)",
      pipeline: "chat",
      unpinned: true,
      variants: [{ id: "max", kind: "load", request: chat({ model: sizedModel(1024) }), bar: { cpuRatioMin: 0.85 } }],
    },
    {
      id: "soak",
      title: `soak: ${opts.soakRequests.toLocaleString("en")} small chat requests`,
      pipeline: "chat",
      onlyWith: "soak",
      floorless: true,
      variants: [{ id: "soak", kind: "soak", request: chat(), bar: { growthMaxPct: 10 } }],
    },
  ];
}
