// The bench scenarios: what each sends, how each is measured, and the bar each is held to.
// Floor and gateway get the very same request; the upstream answers OpenAI chat on
// /v1/chat/completions and Anthropic Messages on /v1/messages, so the floor always has a
// same-format upstream to pass bytes to, while switchyard translates Anthropic to OpenAI (S3).

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

/** A stream of `chunks` content chunks, `delayMs` apart: the upstream reads the shape from the model name. */
export const streamModel = (chunks, delayMs = 0) => `bench-c${chunks}-d${delayMs}`;

/**
 * Variant kinds: "load" (autocannon at max rate or a fixed `rate`), "ttfb" (own undici client,
 * one stream at a time), "hold" (N slow streams open at once), "soak" (one long run, memory at
 * a checkpoint and at the end). Bars: ratioMin (req/s vs floor), addedP99MaxMs / addedP50MaxMs
 * (latency over the floor's), perStreamKBMax (RSS per open stream), growthMaxPct (soak RSS).
 */
export function scenarios(opts) {
  const slowChunks = Math.max(2, Math.ceil((opts.holdSec * 1000) / opts.chunkMs));
  return [
    {
      id: "chat",
      n: 1,
      title: "small chat, non-streaming (auth, validate, round-robin, translate, cost, record)",
      pipeline: "chat",
      variants: [
        { id: "max", kind: "load", request: chat(), bar: { ratioMin: 0.85 } },
        { id: `@${opts.rate}/s`, kind: "load", rate: opts.rate, request: chat(), bar: { addedP99MaxMs: 1 } },
      ],
    },
    {
      id: "stream",
      n: 2,
      title: "same, stream:true, 50 chunks",
      pipeline: "chat",
      variants: [
        { id: "max", kind: "load", request: chat({ model: streamModel(50), stream: true }), bar: { ratioMin: 0.85 } },
        { id: "ttfb", kind: "ttfb", request: chat({ model: streamModel(50), stream: true }), bar: { addedP50MaxMs: 1 } },
      ],
    },
    {
      id: "anthropic",
      n: 3,
      title: "cross-format: Anthropic Messages in, OpenAI-compatible upstream",
      pipeline: "chat",
      variants: [
        { id: "plain", kind: "load", request: anthropic(), bar: { ratioMin: 0.7 } },
        { id: "stream", kind: "load", request: anthropic({ model: streamModel(50), stream: true }), bar: { ratioMin: 0.7 } },
      ],
    },
    {
      id: "http",
      n: 4,
      title: "plain HTTP pipeline proxying a small GET",
      pipeline: "http",
      optionalPipeline: 'route format "http" not available yet',
      variants: [{ id: "get", kind: "load", request: smallGet, bar: { ratioMin: 0.9 } }],
    },
    {
      id: "hold",
      n: 5,
      title: `${opts.streams} slow streams held open (a chunk every ${opts.chunkMs} ms, ${slowChunks} chunks)`,
      pipeline: "chat",
      variants: [
        {
          id: `N=${opts.streams}`,
          kind: "hold",
          request: chat({ model: streamModel(slowChunks, opts.chunkMs), stream: true }),
          // Same chunk count, 1 ms apart: the per-chunk path is warm without holding anything open.
          warmupRequest: chat({ model: streamModel(slowChunks, 1), stream: true }),
          bar: { perStreamKBMax: 40 },
        },
      ],
    },
    {
      id: "soak",
      n: 6,
      title: `soak: ${opts.soakRequests.toLocaleString("en")} small chat requests`,
      pipeline: "chat",
      onlyWith: "soak",
      floorless: true,
      variants: [{ id: "soak", kind: "soak", request: chat(), bar: { growthMaxPct: 10 } }],
    },
  ];
}
