/**
 * provider-mock: an upstream inside the gateway. It speaks every registered format by building
 * its answer in IR and encoding it with that format's own translator, so what the gateway reads
 * is byte for byte what a real upstream of that format would send. Its failures are built by
 * the same core functions provider-openai uses, so ops can rehearse fallback and timeouts offline.
 */
import { createHash, randomUUID } from "node:crypto";
import { definePlugin, GatewayError, type FormatRegistry, type FormatTranslator, type EmbeddingCall, type EmbeddingResult, type InboundRequestInfo, type IrRequest, type Provider, type TokenCount, type UpstreamCall, type UpstreamReply } from "../../core/index.js";
import { upstreamConnectError, upstreamStatusError, upstreamTimeoutError } from "../../lib/upstream/errors.js";
import { seededRandom } from "../../lib/seeded-random.js";
import { estimateEmbeddingTokens } from "../../lib/upstream/embeddings.js";
import { composeAnswer, estimateInputTokens, type MockAnswer } from "./answer.js";
import type { ProviderMockConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { pacedBody } from "./paced-body.js";

const PLUGIN = "provider-mock";

class MockProvider implements Provider {
  private calls = 0;
  private readonly random: () => number;

  constructor(
    private readonly config: ProviderMockConfig,
    private readonly registry: FormatRegistry,
  ) {
    this.random = config.seed === undefined ? Math.random : seededRandom(config.seed);
  }

  /** Every registered format, read at call time: formats may register after backends are built. */
  get formats(): readonly string[] {
    return this.registry.list();
  }

  async send(call: UpstreamCall): Promise<UpstreamReply> {
    const n = ++this.calls;
    if (call.end.aborted) throw call.end.reason;
    const translator = this.registry.get(call.format);
    if (translator === undefined) {
      throw new GatewayError({ status: 500, type: "internal", code: "format_not_registered", message: `${PLUGIN}: no translator for format "${call.format}"`, source: PLUGIN });
    }
    const { config } = this;
    if (config.connectError === true) throw upstreamConnectError(PLUGIN, "ECONNREFUSED");
    if (config.hangMs !== undefined) {
      await this.beforeHeaders(config.hangMs, call);
      throw upstreamTimeoutError(PLUGIN, "headers");
    }
    if ((config.latencyMs ?? 0) > 0) await this.beforeHeaders(config.latencyMs ?? 0, call);
    if (this.failsCall(n)) {
      const fail = config.fail!;
      throw upstreamStatusError({ status: fail.status, message: fail.message, code: fail.code, retryAfterMs: fail.retryAfterMs, source: PLUGIN });
    }

    const request = readRequest(translator, call);
    const answer = composeAnswer(request, config, call.model, {
      response: config.seed === undefined ? `mock-${randomUUID()}` : `mock-${config.seed}-${n}`,
      toolCall: config.seed === undefined ? `call_mock_${randomUUID().replaceAll("-", "")}` : `call_mock_${config.seed}_${n}`,
    });
    if (!call.stream) {
      const json = JSON.stringify(translator.responseFromIr(answer.response, request));
      return { status: 200, headers: { "content-type": "application/json" }, body: this.body([json], call, undefined) };
    }
    const chunks = encodeStream(translator, request, answer);
    const drop = config.dropAfterChunks === undefined ? undefined : 1 + Math.min(config.dropAfterChunks, answer.deltas.length);
    return { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" }, body: this.body(chunks, call, drop) };
  }

  /**
   * The mock's count: `usage.inputTokens` when usage is fixed, else an estimate from the request's
   * text. A refused connection fails it as it fails `send`; other failure settings shape replies only.
   */
  async countTokens(call: UpstreamCall): Promise<TokenCount> {
    if (call.end.aborted) throw call.end.reason;
    if (this.config.connectError === true) throw upstreamConnectError(PLUGIN, "ECONNREFUSED");
    return { inputTokens: this.config.usage?.inputTokens ?? estimateInputTokens(call.body) };
  }

  /**
   * Deterministic unit vectors: each one drawn from a generator seeded by its input's hash, so the
   * same text always embeds the same and different texts differ. Failure settings apply as to `send`.
   */
  async embed(call: EmbeddingCall): Promise<EmbeddingResult> {
    const n = ++this.calls;
    if (call.end.aborted) throw call.end.reason;
    if (this.config.connectError === true) throw upstreamConnectError(PLUGIN, "ECONNREFUSED");
    if ((this.config.latencyMs ?? 0) > 0) await this.beforeHeaders(this.config.latencyMs ?? 0, { ...call, stream: false, format: "", body: {} });
    if (this.failsCall(n)) {
      const fail = this.config.fail!;
      throw upstreamStatusError({ status: fail.status, message: fail.message, code: fail.code, retryAfterMs: fail.retryAfterMs, source: PLUGIN });
    }
    this.embedCalls.push(call.inputs.length);
    const dimensions = call.dimensions ?? this.config.embeddingDimensions ?? 8;
    return { vectors: call.inputs.map((input) => mockVector(input, dimensions)), inputTokens: estimateEmbeddingTokens(call.inputs) };
  }

  get maxEmbeddingBatch(): number {
    return this.config.maxEmbeddingBatch ?? 2048;
  }

  /** Inputs per embed call, in order: what tests read to see batches split. */
  readonly embedCalls: number[] = [];

  close(): Promise<void> {
    return Promise.resolve();
  }

  private body(chunks: string[], call: UpstreamCall, dropAfter: number | undefined): UpstreamReply["body"] {
    return pacedBody({
      chunks,
      delayMs: call.stream ? (this.config.chunkDelayMs ?? 0) : 0,
      bodyTimeoutMs: call.bodyTimeoutMs,
      dropAfter,
      signal: call.end.signal,
      dropError: () =>
        new GatewayError({ status: 502, type: "upstream_error", code: "upstream_stream_dropped", message: "the upstream stream broke off", failure: "stream", source: PLUGIN }),
      timeoutError: () => GatewayError.upstreamIdleTimeout(PLUGIN),
    });
  }

  private failsCall(n: number): boolean {
    const fail = this.config.fail;
    if (fail === undefined) return false;
    if (fail.times !== undefined && n > fail.times) return false;
    return fail.probability === undefined || this.random() < fail.probability;
  }

  /** Waits `ms` before headers as a slow upstream would: the call's headers timeout and abort still apply. */
  private beforeHeaders(ms: number, call: UpstreamCall): Promise<void> {
    const limit = call.headersTimeoutMs > 0 && call.headersTimeoutMs < ms ? call.headersTimeoutMs : undefined;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(call.end.reason);
      };
      const timer = setTimeout(() => {
        call.end.removeListener("abort", onAbort);
        if (limit === undefined) resolve();
        else reject(upstreamTimeoutError(PLUGIN, "headers"));
      }, limit ?? ms);
      call.end.once("abort", onAbort);
    });
  }
}

function mockVector(input: string | number[], dimensions: number): number[] {
  const seed = createHash("sha256").update(typeof input === "string" ? input : JSON.stringify(input)).digest().readUInt32BE(0);
  const random = seededRandom(seed);
  const raw = Array.from({ length: dimensions }, () => random() * 2 - 1);
  const norm = Math.hypot(...raw) || 1;
  return raw.map((v) => v / norm);
}

/**
 * What a real upstream would route on besides the body. Gemini names the model and the method in
 * the path (`models/{model}:streamGenerateContent?alt=sse`) and reads neither from the body;
 * formats that keep them in the body ignore this.
 */
function inboundInfoFor(call: UpstreamCall): InboundRequestInfo {
  const method = call.stream ? "streamGenerateContent" : "generateContent";
  return { path: "/", params: { model: call.model, target: `${call.model}:${method}` }, query: call.stream ? { alt: "sse" } : {} };
}

/** The call's body in IR. A body its format rejects fails the way a real upstream's 400 would. */
function readRequest(translator: FormatTranslator, call: UpstreamCall): IrRequest {
  try {
    return translator.requestToIr(call.body, inboundInfoFor(call));
  } catch (err) {
    if (err instanceof GatewayError && err.status === 400) {
      throw upstreamStatusError({ status: 400, message: err.message, code: err.code, param: err.param, source: PLUGIN });
    }
    throw err;
  }
}

/** The answer as SSE text in the call's format, one string per body chunk: opening, each delta, closing. */
function encodeStream(translator: FormatTranslator, request: IrRequest, answer: MockAnswer): string[] {
  let pending = "";
  const encoder = translator.createStreamEncoder(request, (text) => {
    pending += text;
  });
  const take = (): string => {
    const text = pending;
    pending = "";
    return text;
  };
  for (const event of answer.opening) encoder.push(event);
  const chunks = [take()];
  for (const event of answer.deltas) {
    encoder.push(event);
    chunks.push(take());
  }
  for (const event of answer.closing) encoder.push(event);
  encoder.end();
  chunks.push(take());
  return chunks;
}

export default definePlugin<ProviderMockConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "An offline upstream for any registered format: canned or echoed replies, streams, and scripted failures.",
  configSchema,
  create(config, env) {
    const usage = config.usage;
    // The IR counts cache tokens inside input and reasoning inside output; a mock that broke that rule would test nothing.
    if (usage && (usage.cachedReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0) > usage.inputTokens) {
      throw new Error(`${PLUGIN}: usage.cachedReadTokens + usage.cacheWriteTokens must not exceed usage.inputTokens (they are part of it)`);
    }
    if (usage && (usage.reasoningTokens ?? 0) > usage.outputTokens) {
      throw new Error(`${PLUGIN}: usage.reasoningTokens must not exceed usage.outputTokens (they are part of it)`);
    }
    return new MockProvider(config, env.formats);
  },
});
