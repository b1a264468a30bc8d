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
