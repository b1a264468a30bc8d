/**
 * translate: meets every format in the IR. For an attempt whose backend speaks another format it
 * turns the client's request into the backend's, and the backend's reply (plain or streamed)
 * back into the client's. The IR is built once per request and reused by every attempt.
 */
import { GatewayError, definePlugin, type Exchange, type FormatTranslator, type IrRequest, type IrUsage, type Translation } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { ClientStream, continuationRequest } from "./continuation.js";
import type { TranslateConfig } from "./config.generated.js";

const PLUGIN = "translate";

export default definePlugin<TranslateConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Translates between the client's format and the backend's through the IR (drop or reject fields the backend cannot carry).",
  configSchema,
  create(config, env) {
    const strict = config.policy === "strict";
    const maxContinuations = config.continuation ? (config.continuation.maxContinuations ?? 1) : 0;
    /** Each continued request's client stream, across its attempts. */
    const streams = new WeakMap<Exchange, ClientStream>();
    return {
      apply(hooks) {
        hooks.translate.tap(PLUGIN, (x, attempt, backendFormat) => {
          const target = env.formats.get(backendFormat);
          const continuing = maxContinuations > 0 && x.stream;
          // The core asks about same-format streams too: only continued ones go through the IR.
          if (!target || (backendFormat === x.route.format && !continuing)) return undefined;
          const ir = (x.ir ??= x.format.requestToIr(x.body, x.inbound));
          const forBackend: IrRequest = { ...ir, model: attempt.model };
          applyPolicy(x, forBackend, target, strict);
          if (!continuing) return translation(x.format, target, forBackend, ir);
          return continuedTranslation(x, target, forBackend, ir, streams, maxContinuations);
        });
      },
    };
  },
});

/**
 * Fields the backend's format cannot carry: the client format's own extras (the IR has no place
 * for them) and the IR fields the target drops or approximates. Rejected (strict) or dropped and
 * noted on the record.
 */
function applyPolicy(x: Exchange, ir: IrRequest, target: FormatTranslator, strict: boolean): void {
  const extras = ir.extra ? Object.keys(ir.extra) : [];
  const approximated = target.unsupportedFields?.(ir) ?? [];
  if (extras.length === 0 && approximated.length === 0) return;
  if (strict) {
    const field = extras[0] ?? approximated[0]!;
    throw new GatewayError({
      status: 400, type: "invalid_request", code: "unsupported_field", param: field,
      message: `field "${field}" cannot be carried to a ${target.format} backend`, source: PLUGIN,
    });
  }
  delete ir.extra;
  const note = `dropped for ${target.format}: ${[...extras, ...approximated].join(", ")}`;
  if (!x.notes.includes(note)) x.notes.push(note);
}

function translation(client: FormatTranslator, backend: FormatTranslator, ir: IrRequest, clientIr: IrRequest): Translation {
  return {
    body: backend.requestFromIr(ir),
    response(upstreamBody) {
      const reply = backend.responseToIr(upstreamBody);
      return { body: client.responseFromIr(reply, clientIr), usage: reply.usage, finishReason: backend.finishReasonOf?.(upstreamBody) };
    },
    stream(write) {
      const encoder = client.createStreamEncoder(clientIr, write);
      let usage: IrUsage | undefined;
      const decoder = backend.createStreamDecoder((event) => {
        if (event.type === "usage") usage = event.usage;
        encoder.push(event);
      });
      return {
        push: (event) => decoder.push(event),
        end() {
          decoder.end();
          encoder.end();
        },
        error: (err) => encoder.error(err),
        get usage() {
          return usage;
        },
        get finishReason() {
          return decoder.finishReason;
        },
      };
    },
  };
}

/**
 * A stream relayed so that it can be continued: the first attempt opens the client's stream, a
 * later one (after a break) asks its backend for the rest and writes into the same stream.
 */
function continuedTranslation(x: Exchange, backend: FormatTranslator, ir: IrRequest, clientIr: IrRequest, streams: WeakMap<Exchange, ClientStream>, maxContinuations: number): Translation {
  const broken = streams.get(x);
  const resuming = broken?.suspended === true ? continuationRequest(ir, broken.text, backend.format) : undefined;
  const plain = translation(x.format, backend, resuming?.request ?? ir, clientIr);
  return {
    body: plain.body,
    response: plain.response,
    stream(write, outcome) {
      let client = streams.get(x);
      if (client?.suspended && resuming) client.resume(write, resuming.trimmed, outcome);
      else streams.set(x, (client = new ClientStream(x.format, clientIr, write, maxContinuations, outcome)));
      const decoder = backend.createStreamDecoder((event) => client.push(event));
      return {
        push: (event) => decoder.push(event),
        end() {
          decoder.end();
          client.end();
        },
        error: (err) => client.error(err),
        suspend: (err) => client.suspend(err, x.notes),
        get usage() {
          return client.usage;
        },
        get finishReason() {
          return decoder.finishReason;
        },
      };
    },
  };
}
