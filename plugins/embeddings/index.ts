/**
 * embeddings: answers routes with `"endpoint": "embeddings"`: OpenAI's POST /v1/embeddings and
 * Gemini's `models/{model}:embedContent` / `:batchEmbedContents`, in whichever format the route
 * speaks, on any backend of the model whose provider embeds (Provider.embed). The plan's
 * selectors order the backends; the core's attempt loop falls back and retries; a batch larger
 * than a backend takes goes as several calls whose vectors are joined in input order. Usage (the
 * input tokens) goes through the usage hook, so cost, limits, budgets, records and the usage API
 * count embeddings as they count chat.
 */
import { definePlugin, GatewayError, type Attempt, type EndpointIo, type Exchange, type PipelineHooks } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { geminiEmbeddings, openAiEmbeddings, type EmbeddingRequest, type EmbeddingWire } from "./wire.js";

const PLUGIN = "embeddings";

const WIRES: Record<string, EmbeddingWire> = { "openai-chat": openAiEmbeddings, "openai-responses": openAiEmbeddings, gemini: geminiEmbeddings };

export default definePlugin({
  kind: "step",
  name: PLUGIN,
  description: "Answers embeddings routes (OpenAI /v1/embeddings, Gemini embedContent and batchEmbedContents) on any backend that embeds.",
  configSchema,
  endpoints: {
    embeddings: { description: "vectors for texts, from any backend of the model that embeds", body: "json", formats: Object.keys(WIRES) },
  },
  create() {
    return {
      apply(hooks) {
        hooks.endpoint.for(PLUGIN).tapPromise(PLUGIN, (x, io) => serveEmbeddings(hooks, x, io));
      },
    };
  },
});

async function serveEmbeddings(hooks: PipelineHooks, x: Exchange, io: EndpointIo): Promise<{ status: number; body: unknown }> {
  const wire = WIRES[x.route.format];
  if (wire === undefined) throw new GatewayError({ status: 404, type: "not_found", code: "not_found", message: `the ${x.route.format} format has no embeddings endpoint` });
  const model = x.model;
  if (model === undefined || model === "") throw GatewayError.invalidRequest("the request names no model", "model", "missing_model");
  const request = wire.read(x);
  const candidates = io.pipeline.models.attemptsFor(model);
  if (candidates.length === 0) throw GatewayError.modelNotFound(model);
  const embedding = candidates.filter((a) => a.backend.provider.embed !== undefined);
  if (embedding.length === 0) {
    throw new GatewayError({ status: 501, type: "unavailable", code: "embeddings_unavailable", message: `no backend of model "${model}" can embed`, headers: { "x-should-retry": "false" }, source: PLUGIN });
  }
  const planned = await hooks.plan.promise(embedding, x);
  if (planned.length === 0) {
    throw new GatewayError({ status: 503, type: "unavailable", code: "no_backend_available", message: `no backend is available for model "${model}"`, retryAfterMs: x.heldBack?.retryAfterMs });
  }
  let result: { vectors: number[][]; inputTokens: number } | undefined;
  await io.walkAttempts(planned, {
    // An embedding is no sample of how a backend generates: latency and health selectors see chat only.
    sampled: false,
    prepare: (attempt) => async (outcome) => {
      result = await embedAll(x, io, attempt, request);
      outcome.status = 200;
      x.backend = attempt.backend.id;
      x.upstreamModel = attempt.model;
    },
  });
  x.usage = { inputTokens: result!.inputTokens, outputTokens: 0 };
  hooks.usage.call(x);
  return { status: 200, body: wire.render(x, request, result!.vectors, result!.inputTokens) };
}

/** Every input on one backend, in calls of at most its batch size, one after another; vectors joined in input order. */
async function embedAll(x: Exchange, io: EndpointIo, attempt: Attempt, request: EmbeddingRequest): Promise<{ vectors: number[][]; inputTokens: number }> {
  const provider = attempt.backend.provider;
  const batch = Math.max(1, provider.maxEmbeddingBatch ?? request.inputs.length);
  const vectors: number[][] = [];
  let inputTokens = 0;
  for (let start = 0; start < request.inputs.length; start += batch) {
    const inputs = request.inputs.slice(start, start + batch);
    const reply = await provider.embed!({
      model: attempt.model, inputs, dimensions: request.dimensions, end: x.end, requestId: x.id,
      headersTimeoutMs: io.pipeline.timeouts.firstByteMs, bodyTimeoutMs: io.pipeline.timeouts.idleMs,
    });
    if (reply.vectors.length !== inputs.length) {
      throw new GatewayError({ status: 502, type: "upstream_error", code: "bad_upstream_response", message: `the backend returned ${reply.vectors.length} vectors for ${inputs.length} inputs`, failure: "status", upstreamStatus: 502, source: PLUGIN });
    }
    vectors.push(...reply.vectors);
    inputTokens += reply.inputTokens;
  }
  return { vectors, inputTokens };
}
