/**
 * trace-otel: OpenTelemetry spans for the requests of pipelines that have the step. The request
 * span starts at auth (as a child of the client's traceparent, when it sent one) and ends with the
 * request's record; each attempt is a client span under it, and its traceparent goes upstream
 * through `Exchange.upstreamHeaders`, set in attemptStarted just before the attempt is sent. The
 * tracer provider is the step's own (not registered globally): two pipelines may export to two
 * collectors, and nothing else in the process is traced by accident.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TextMapGetter } from "@opentelemetry/api";
import type { IncomingHttpHeaders } from "node:http";
import { definePlugin, GENERATE_ENDPOINT, type Attempt, type AttemptOutcome, type Exchange, type IrUsage, type RequestRecord } from "../../core/index.js";
import type { TraceOtelConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "trace-otel";

/** gen_ai.system of the providers that name a well-known system; others give their plugin name less `provider-`. */
const GEN_AI_SYSTEMS: Readonly<Record<string, string>> = {
  "provider-openai": "openai",
  "provider-anthropic": "anthropic",
  "provider-gemini": "gcp.gemini",
};

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

function genAiSystem(use: string): string {
  return GEN_AI_SYSTEMS[use] ?? use.replace(/^provider-/, "");
}

function usageAttributes(usage: IrUsage | undefined): Attributes {
  if (usage === undefined) return {};
  return { "gen_ai.usage.input_tokens": usage.inputTokens, "gen_ai.usage.output_tokens": usage.outputTokens };
}

/** GenAI semconv's `gen_ai.response.finish_reasons` (a list: one per choice; the gateway relays choice 0's), as the backend's format wrote it. */
function finishReasonAttributes(reason: string | undefined): Attributes {
  return reason === undefined ? {} : { "gen_ai.response.finish_reasons": [reason] };
}

/** The spans of one request: its own, and the attempt being sent (attempts run one after another). */
interface RequestSpans {
  request: Span;
  attempt?: Span;
}

export default definePlugin<TraceOtelConfig>({
  kind: "step",
  name: PLUGIN,
  description: "OpenTelemetry traces over OTLP/HTTP: a span per request and per attempt with GenAI attributes, W3C traceparent from the client and on to the upstream.",
  configSchema,
  async create(config, env) {
    // The SDK and exporter are imported by the pipelines that trace, not by every start-up of the
    // gateway (a tenth of a second of module loading most pipelines never use).
    const [{ W3CTraceContextPropagator }, { OTLPTraceExporter }, { resourceFromAttributes }, { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler }] = await Promise.all([
      import("@opentelemetry/core"), import("@opentelemetry/exporter-trace-otlp-http"), import("@opentelemetry/resources"), import("@opentelemetry/sdk-trace-base"),
    ]);
    const propagator = new W3CTraceContextPropagator();
    const processor = new BatchSpanProcessor(
      new OTLPTraceExporter({ url: config.endpoint ?? "http://127.0.0.1:4318/v1/traces", headers: config.headers ?? {} }),
      { scheduledDelayMillis: config.flushIntervalMs ?? 5000, maxQueueSize: config.maxQueueSize ?? 2048 },
    );
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": config.serviceName ?? "switchyard" }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio ?? 1) }),
      spanProcessors: [processor],
    });
    const tracer = provider.getTracer(PLUGIN);
    const spans = new WeakMap<Exchange, RequestSpans>();

    const startAttempt = (x: Exchange, attempt: Attempt) => {
      const current = spans.get(x);
      if (current === undefined) return;
      const generate = x.route.endpoint === GENERATE_ENDPOINT;
      const system = genAiSystem(attempt.backend.use);
      const span = tracer.startSpan(
        generate ? `chat ${attempt.model}` : `${x.route.endpoint} ${attempt.backend.id}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            "gen_ai.system": system, "gen_ai.provider.name": system, "switchyard.backend": attempt.backend.id,
            ...(generate ? { "gen_ai.operation.name": "chat", "gen_ai.request.model": attempt.model } : {}),
          },
        },
        trace.setSpan(ROOT_CONTEXT, current.request),
      );
      current.attempt = span;
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, { set: (c, k, v) => void (c[k] = v) });
      x.upstreamHeaders = { ...x.upstreamHeaders, ...carrier };
    };

    const finishAttempt = (x: Exchange, outcome: AttemptOutcome) => {
      const current = spans.get(x);
      const span = current?.attempt;
      if (span === undefined) return;
      current!.attempt = undefined;
      if (outcome.status !== undefined) span.setAttribute("http.response.status_code", outcome.status);
      if (outcome.failure !== undefined || outcome.errorCode !== undefined) {
        span.setAttribute("error.type", outcome.errorCode ?? outcome.failure!);
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errorCode });
      } else if (x.route.endpoint === GENERATE_ENDPOINT) {
        span.setAttributes({ "gen_ai.response.model": outcome.model, ...usageAttributes(x.usage), ...finishReasonAttributes(x.finishReason) });
      }
      span.end();
    };

    const finishRequest = (record: RequestRecord, x: Exchange) => {
      const current = spans.get(x);
      if (current === undefined) return;
      spans.delete(x);
      const span = current.request;
      span.setAttributes({
        "http.response.status_code": record.status,
        "switchyard.attempts": record.attempts.length,
        ...(record.backend === undefined ? {} : { "switchyard.backend": record.backend }),
        ...(record.upstreamModel === undefined ? {} : { "gen_ai.response.model": record.upstreamModel }),
        ...(record.costUsd === null ? {} : { "switchyard.cost_usd": record.costUsd }),
        ...(record.tenant === undefined ? {} : { "switchyard.tenant": record.tenant }),
        ...usageAttributes(record.usage),
        ...finishReasonAttributes(record.finishReason),
      });
      if (record.error) span.setAttribute("error.type", record.error.code);
      // A server span is an error only when the gateway failed (5xx); a client's mistake is not (OTel's HTTP conventions).
      if (record.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: record.error?.code });
      span.end(x.startedAt + record.latencyMs);
    };

    return {
      apply(hooks) {
        hooks.auth.tap(PLUGIN, (x) => {
          // Admin calls end without a record, so their span would never end.
          if (x.route.admin) return undefined;
          const parent = propagator.extract(ROOT_CONTEXT, x.headers, headerGetter);
          const generate = x.route.endpoint === GENERATE_ENDPOINT;
          // A prefix route taking every method says "*": OTel's name for a method it does not name is _OTHER.
          const method = x.route.method === "*" ? "_OTHER" : x.route.method;
          const request = tracer.startSpan(
            generate && x.model !== undefined ? `chat ${x.model}` : `${method} ${x.route.path}`,
            {
              kind: SpanKind.SERVER,
              startTime: x.startedAt,
              attributes: {
                "http.request.method": method, "http.route": x.route.path,
                "switchyard.pipeline": env.pipelineId, "switchyard.request_id": x.id,
                ...(generate ? { "gen_ai.operation.name": "chat", ...(x.model === undefined ? {} : { "gen_ai.request.model": x.model }) } : {}),
              },
            },
            parent,
          );
          spans.set(x, { request });
          return undefined;
        });
        hooks.attemptStarted.tap(PLUGIN, startAttempt);
        hooks.attemptFinished.tap(PLUGIN, finishAttempt);
        hooks.record.tap(PLUGIN, finishRequest);
      },
      async close() {
        // Exports what is left; a collector that is down costs at most the exporter's timeout.
        await provider.shutdown().catch((err: unknown) => env.log.warn({ step: env.id, err: String(err) }, "trace export at shutdown failed"));
      },
    };
  },
});
