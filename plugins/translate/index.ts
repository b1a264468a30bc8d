/**
 * translate: meets every format in the IR. For an attempt whose backend speaks another format it
 * turns the client's request into the backend's, and the backend's reply (plain or streamed)
 * back into the client's. The IR is built once per request and reused by every attempt.
 */
import { GatewayError, definePlugin, type Exchange, type FormatTranslator, type IrRequest, type IrUsage, type Translation } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };
import type { TranslateConfig } from "./config.generated.js";

const PLUGIN = "translate";

export default definePlugin<TranslateConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Translates between the client's format and the backend's through the IR (drop or reject fields the backend cannot carry).",
  configSchema,
  create(config, env) {
    const strict = config.policy === "strict";
    return {
      apply(hooks) {
        hooks.translate.tap(PLUGIN, (x, attempt, backendFormat) => {
          const target = env.formats.get(backendFormat);
          if (!target) return undefined;
          const ir = (x.ir ??= x.format.requestToIr(x.body, x.inbound));
          const forBackend: IrRequest = { ...ir, model: attempt.model };
          applyPolicy(x, forBackend, target, strict);
          return translation(x.format, target, forBackend, ir);
        });
      },
    };
  },
});

/** Fields the backend's format cannot carry: rejected (strict) or dropped and noted on the record. */
function applyPolicy(x: Exchange, ir: IrRequest, target: FormatTranslator, strict: boolean): void {
  const uncarried = ir.extra ? Object.keys(ir.extra) : [];
  if (uncarried.length === 0) return;
  if (strict) {
    throw new GatewayError({
      status: 400, type: "invalid_request", code: "unsupported_field", param: uncarried[0],
      message: `field "${uncarried[0]}" cannot be carried to a ${target.format} backend`, source: PLUGIN,
    });
  }
  delete ir.extra;
  const note = `dropped for ${target.format}: ${uncarried.join(", ")}`;
  if (!x.notes.includes(note)) x.notes.push(note);
}

function translation(client: FormatTranslator, backend: FormatTranslator, ir: IrRequest, clientIr: IrRequest): Translation {
  return {
    body: backend.requestFromIr(ir),
    response(upstreamBody) {
      const reply = backend.responseToIr(upstreamBody);
      return { body: client.responseFromIr(reply, clientIr), usage: reply.usage };
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
      };
    },
  };
}
