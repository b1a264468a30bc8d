/**
 * trace-otel through a real gateway, exporting to an OTLP/HTTP receiver this test runs (a plain
 * node server decoding the exporter's JSON): the request span continues the client's trace, each
 * attempt is a span under it whose own traceparent reaches the upstream, and the GenAI attributes
 * are on them.
 */
import { createServer, type Server } from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";
import { waitUntil } from "../support/wait.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number };
  attributes: { key: string; value: Record<string, unknown> }[];
}
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

/** An OTLP/HTTP traces receiver: every span of every export, in arrival order. */
async function startOtlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; services: Set<string>; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const services = new Set<string>();
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      let raw = Buffer.concat(parts);
      if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
      if (req.url !== "/v1/traces" || !String(req.headers["content-type"]).startsWith("application/json")) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(raw.toString("utf8"));
      for (const rs of body.resourceSpans ?? []) {
        for (const a of rs.resource?.attributes ?? []) if (a.key === "service.name") services.add(a.value.stringValue);
        for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    services,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const attr = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
};
/** A string-array attribute (OTLP's arrayValue), as a plain array. */
const strings = (span: OtlpSpan, key: string): string[] | undefined => {
  const value = attr(span, key) as { values?: Array<{ stringValue?: string }> } | undefined;
  return value?.values?.map((v) => v.stringValue ?? "");
};

describe("trace-otel", () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let upstream: OpenAiUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    upstream = await startOpenAiUpstream();
    gw = await startGateway({
      "traced.pipeline.json": {
        id: "traced",
        routes: [{ path: "/v1/chat/completions", format: "openai-chat" }],
        backends: {
          first: { use: "provider-openai", models: ["gpt-4o-mini"], config: { baseUrl: upstream.url, apiKey: "sk-upstream" } },
          second: { use: "provider-openai", models: ["gpt-4o-mini"], config: { baseUrl: upstream.url, apiKey: "sk-upstream" } },
        },
        steps: [{ use: "trace-otel", config: { endpoint: receiver.url, serviceName: "gateway-under-test", flushIntervalMs: 20 } }, { use: "stream-sse" }],
        attempts: { maxAttempts: 2, on: ["5xx"] },
      },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await receiver?.close();
  });

  const chat = (headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "trace me" }] }),
    }).then(async (r) => ({ status: r.status, id: r.headers.get("x-switchyard-request-id"), body: (await r.json()) as any }));

  it("continues the client's trace: a server span under its traceparent, an attempt span per try, each try's traceparent upstream", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const clientSpan = "00f067aa0ba902b7";
    const before = upstream.requests.length;
    upstream.queue({ error: { status: 503 } });
    const reply = await chat({ traceparent: `00-${traceId}-${clientSpan}-01` });
    expect(reply.status).toBe(200);

    await waitUntil(() => receiver.spans.filter((s) => s.traceId === traceId).length === 3, () => `spans so far: ${JSON.stringify(receiver.spans.map((s) => s.name))}`);
    const mine = receiver.spans.filter((s) => s.traceId === traceId);
    const request = mine.find((s) => s.kind === SERVER)!;
    const attempts = mine.filter((s) => s.kind === CLIENT);
    expect(receiver.services).toContain("gateway-under-test");
    expect(request.parentSpanId).toBe(clientSpan);
    expect(request.name).toBe("chat gpt-4o-mini");
    expect(attr(request, "gen_ai.operation.name")).toBe("chat");
    expect(attr(request, "gen_ai.request.model")).toBe("gpt-4o-mini");
    expect(attr(request, "gen_ai.response.model")).toBe("gpt-4o-mini");
    expect(attr(request, "http.response.status_code")).toBe(200);
    expect(attr(request, "switchyard.request_id")).toBe(reply.id);
    expect(Number(attr(request, "gen_ai.usage.input_tokens"))).toBe(reply.body.usage.prompt_tokens);
    expect(Number(attr(request, "gen_ai.usage.output_tokens"))).toBe(reply.body.usage.completion_tokens);
    expect(strings(request, "gen_ai.response.finish_reasons")).toEqual([reply.body.choices[0].finish_reason]);

    expect(attempts.map((s) => attr(s, "switchyard.backend")).sort()).toEqual(["first", "second"]);
    for (const a of attempts) {
      expect(a.parentSpanId).toBe(request.spanId);
      expect(a.name).toBe("chat gpt-4o-mini");
      expect(attr(a, "gen_ai.system")).toBe("openai");
      expect(attr(a, "gen_ai.request.model")).toBe("gpt-4o-mini");
    }
    const failed = attempts.find((s) => attr(s, "switchyard.backend") === "first")!;
    const served = attempts.find((s) => attr(s, "switchyard.backend") === "second")!;
    expect(failed.status?.code).toBe(ERROR);
    expect(attr(failed, "http.response.status_code")).toBe(503);
    expect(attr(served, "gen_ai.response.model")).toBe("gpt-4o-mini");
    expect(Number(attr(served, "gen_ai.usage.output_tokens"))).toBe(reply.body.usage.completion_tokens);
    // Only the attempt that answered says why the answer ended.
    expect(strings(served, "gen_ai.response.finish_reasons")).toEqual(["stop"]);
    expect(strings(failed, "gen_ai.response.finish_reasons")).toBeUndefined();

    // Each try went upstream with its own span as the parent, in the client's trace.
    const sent = upstream.requests.slice(before).map((r) => r.headers.traceparent);
    expect(sent).toEqual([`00-${traceId}-${failed.spanId}-01`, `00-${traceId}-${served.spanId}-01`]);
  });

  it("starts a trace of its own for a client without one, and still sends it upstream", async () => {
    const before = upstream.requests.length;
    const reply = await chat();
    expect(reply.status).toBe(200);
    const sent = upstream.requests[before]!.headers.traceparent as string;
    const [, traceId, parentId, flags] = sent.split("-");
    expect(flags).toBe("01");
    await waitUntil(() => receiver.spans.some((s) => s.spanId === parentId), () => "the attempt span was not exported");
    const attempt = receiver.spans.find((s) => s.spanId === parentId)!;
    const request = receiver.spans.find((s) => s.spanId === attempt.parentSpanId)!;
    expect(attempt.traceId).toBe(traceId);
    expect(request.kind).toBe(SERVER);
    expect(request.parentSpanId ?? "").toBe("");
    expect(attr(request, "switchyard.request_id")).toBe(reply.id);
  });

  it("puts a streamed answer's finish reason (read as the stream passed through) on the request span and its attempt span", async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "stream me" }] }),
    });
    const id = r.headers.get("x-switchyard-request-id");
    const text = await r.text();
    expect(text).toContain('"finish_reason":"stop"');
    await waitUntil(() => receiver.spans.some((s) => attr(s, "switchyard.request_id") === id), () => "the streamed request was not exported");
    const request = receiver.spans.find((s) => attr(s, "switchyard.request_id") === id)!;
    await waitUntil(() => receiver.spans.some((s) => s.parentSpanId === request.spanId), () => "the attempt span was not exported");
    const attempt = receiver.spans.find((s) => s.parentSpanId === request.spanId)!;
    expect(strings(request, "gen_ai.response.finish_reasons")).toEqual(["stop"]);
    expect(strings(attempt, "gen_ai.response.finish_reasons")).toEqual(["stop"]);
  });

  it("passes a client's unsampled trace on unsampled, and exports nothing for it", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const before = upstream.requests.length;
    expect((await chat({ traceparent: `00-${traceId}-b7ad6b7169203331-00` })).status).toBe(200);
    const sent = upstream.requests[before]!.headers.traceparent as string;
    expect(sent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    // A sampled request after it is exported; by then the unsampled one would have been too.
    const marker = await chat();
    await waitUntil(() => receiver.spans.some((s) => attr(s, "switchyard.request_id") === marker.id), () => "the later request was not exported");
    expect(receiver.spans.filter((s) => s.traceId === traceId)).toEqual([]);
  });
});
