/**
 * An upstream's reply on its way to the client: a plain body read whole (usage read, translated
 * when the formats differ), or a stream handed to the stream step's relay, which commits it on
 * its first chunk. Until then nothing is written, so a failure still lets the attempt loop move on.
 */
import type { ServerResponse } from "node:http";
import type { CompiledPipeline } from "./compile.js";
import { GatewayError } from "../contract/errors.js";
import type { AttemptOutcome, Exchange } from "../contract/exchange.js";
import type { RelayTarget, RelayWrite, StreamRelay, Translation } from "../contract/translation.js";
import type { UpstreamReply } from "../contract/provider.js";
import type { FormatTranslator, ReplyFacts } from "../contract/format.js";
import { readBody } from "./read-body.js";
import { applyExchangeHeaders, writeJson } from "./respond.js";

function parseUpstreamJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new GatewayError({ status: 502, type: "upstream_error", code: "upstream_invalid_json", message: "the upstream answered with a body that is not JSON", failure: "status", upstreamStatus: 502 });
  }
}

const factsOf = (format: FormatTranslator, body: unknown): ReplyFacts => ({ usage: format.usageOf(body), finishReason: format.finishReasonOf?.(body) });

export async function deliverPlain(p: CompiledPipeline, x: Exchange, res: ServerResponse, reply: UpstreamReply, translation: Translation | undefined): Promise<void> {
  // A body that broke off (reset, idle timeout) after its headers: nothing reached the client
  // yet, so it is an attempt failure the loop may fall back on, not an internal error.
  const raw = await readBody(reply.body).catch((err: unknown) => {
    throw GatewayError.upstreamBodyBroke(err);
  });
  const translated = translation?.response(parseUpstreamJson(raw));
  // Same format: the client gets the bytes as they came, and only usage and the finish reason are read.
  const facts = translated ?? x.format.replyFacts?.(raw) ?? factsOf(x.format, parseUpstreamJson(raw));
  ({ usage: x.usage, finishReason: x.finishReason } = facts);
  if (x.usage) p.hooks.usage.call(x);
  writeJson(x, res, 200, translated ? JSON.stringify(translated.body) : raw);
}

export async function deliverStream(p: CompiledPipeline, x: Exchange, res: ServerResponse, reply: UpstreamReply, translation: Translation | undefined, relay: StreamRelay, outcome: AttemptOutcome, movesOn: (err: GatewayError) => boolean): Promise<void> {
  const commit = () => {
    if (x.headersSent) return; // a continuation: the client's stream is already open
    applyExchangeHeaders(x, res);
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" });
    x.headersSent = true;
    x.status = 200;
    x.ttfbMs = performance.now() - x.startedHr;
    // Committed: no attempt follows, so the client's bytes need not live as long as the stream.
    x.received = undefined;
  };

  let source: { readonly usage: typeof x.usage; readonly finishReason?: string };
  const makeTarget = (write: RelayWrite): RelayTarget => {
    if (translation) {
      const stream = (source = translation.stream(write, outcome));
      // Held open only while the attempt loop goes on to continue it; otherwise the relay writes the error event now.
      const suspend = (err: GatewayError): boolean => {
        if (stream.suspend?.(err) !== true) return false;
        x.continuing = { end: (e) => (stream.error(e), res.end()) };
        if (!movesOn(err)) x.continuing = undefined;
        return x.continuing !== undefined;
      };
      return { output: "written", push: (ev) => stream.push(ev), end: () => stream.end(), error: (err) => stream.error(err), suspend };
    }
    const observer = (source = x.format.createStreamObserver(x.body));
    return {
      // An observer that filters drops a few events (OpenAI's usage-only chunk): the client
      // gets the upstream's own text around them, never a re-framing of every event.
      output: observer.filters ? "kept" : "raw",
      push: (ev) => observer.push(ev),
      eventsWanted: observer.eventsWanted?.bind(observer),
      end: () => {},
      // Mid-stream on the passthrough path there is no encoder yet: make one just for the error event.
      error: (err) => x.format.createStreamEncoder(x.ir ?? { model: x.model ?? "", messages: [], stream: true }, write).error(err),
    };
  };
  const result = await relay(reply.body, res, commit, makeTarget);
  if (result.ok || !result.suspended) x.continuing = undefined;
  else throw result.error; // the attempt loop continues the stream on its next attempt
  x.usage = source!.usage;
  x.finishReason = source!.finishReason;
  if (x.usage) p.hooks.usage.call(x);
  if (!result.ok) {
    outcome.failure = result.error.failure;
    outcome.errorCode = result.error.code;
    x.error = result.error;
    if (result.clientGone) throw GatewayError.clientClosed();
  }
}
