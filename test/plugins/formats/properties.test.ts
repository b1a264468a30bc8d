/**
 * Property-based checks over generated IR, for every format translator:
 * - a request written by requestFromIr and read back by requestToIr keeps everything the format
 *   can carry (what it cannot, it lists in unsupportedFields);
 * - no translator throws on any generated input, however odd;
 * - responses and streams written by a format and read back by the same format keep what a client sees;
 * - malformed upstream bodies and streams become a clean GatewayError, never a crash.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError, type IrFinishReason, type IrResponse, type IrStreamEvent } from "../../../core/index.js";
import { SseParser } from "../../../lib/wire/sse.js";
import { FORMATS, usageAs, type FormatCase } from "./format-cases.js";
import { carriedView } from "./carried-view.js";
import { brokenSseEvents, chaoticIrRequest, irRequest, irResponse, irStream, wireLikeJson } from "./ir-arbitraries.js";
import { collectStream, decodeSse, encodeEvents, withParsedArguments } from "./stream-support.js";

const RUNS = { numRuns: 150 };

function clientView(response: IrResponse, c: FormatCase) {
  const text = response.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
  const thinking = response.content.flatMap((p) => (p.type === "thinking" ? [p.text] : [])).join("");
  const signatures = c.keepsSignatures ? response.content.flatMap((p) => (p.type === "thinking" && p.signature !== undefined ? [p.signature] : [])) : [];
  const calls = response.content.flatMap((p) => (p.type === "tool_call" ? [{ id: p.id, name: p.name, arguments: JSON.parse(p.arguments) as unknown }] : []));
  return { text, thinking, signatures, calls, finishReason: response.finishReason, usage: usageAs(c, response.usage) };
}

/** Runs `fn`; anything it throws must be a GatewayError, with exactly `status` when given (else any error status). */
function onlyGatewayErrors(fn: () => void, status?: number): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    if (status === undefined) expect(err.status).toBeGreaterThanOrEqual(400);
    else expect(err.status, err.message).toBe(status);
  }
}

for (const c of FORMATS) {
  const t = c.translator;
  describe(`${t.format} properties`, () => {
    it("keeps every request field the format can carry through requestFromIr -> requestToIr", () => {
      fc.assert(
        fc.property(irRequest, (ir) => {
          const lost = t.unsupportedFields!(ir);
          const back = t.requestToIr(JSON.parse(JSON.stringify(t.requestFromIr(ir))), c.info(ir));
          c.normalizeRequest?.(back, ir);
          expect(carriedView(back, lost, c.view)).toEqual(carriedView(ir, lost, c.view));
        }),
        RUNS,
      );
    });

    it("never throws while writing requests, responses or streams from any IR", () => {
      fc.assert(
        fc.property(chaoticIrRequest, irResponse, irStream, (ir, response, events) => {
          t.requestFromIr(ir);
          t.unsupportedFields!(ir);
          t.responseFromIr(response, ir);
          encodeEvents(t, ir, events);
          encodeEvents(t, ir, events.slice(0, 3), new GatewayError({ status: 502, type: "upstream_error", code: "x", message: "boom" }));
        }),
        RUNS,
      );
    });

    it("keeps what a client sees through responseFromIr -> responseToIr", () => {
      fc.assert(
        fc.property(irResponse, (response) => {
          const wire: unknown = JSON.parse(JSON.stringify(t.responseFromIr(response, { model: response.model, stream: false, messages: [] })));
          const hasCalls = response.content.some((p) => p.type === "tool_call");
          const finishReason = c.finish(response.finishReason, hasCalls);
          if (finishReason === "throws") {
            expect(() => t.responseToIr(wire)).toThrow(GatewayError);
            return;
          }
          expect(clientView(t.responseToIr(wire), c)).toEqual({ ...clientView(response, c), finishReason });
        }),
        RUNS,
      );
    });

    it("keeps what a client sees through its stream encoder -> decoder", () => {
      fc.assert(
        fc.property(irStream, fc.integer({ min: 1, max: 64 }), (events, chunkSize) => {
          const request = { model: "m", stream: true, streamUsage: true, messages: [] };
          const decoded: IrStreamEvent[] = [];
          let error: unknown;
          try {
            decodeSse(t, encodeEvents(t, request, events), chunkSize, decoded);
          } catch (err) {
            error = err;
          }
          const back = withParsedArguments(collectStream(decoded));
          const sent = withParsedArguments(collectStream(events));
          const finishReason = c.finish(sent.finishReason as IrFinishReason, sent.toolCalls.length > 0);
          if (finishReason === "throws") {
            // Everything before the failure still reached the client.
            expect(error).toBeInstanceOf(GatewayError);
            expect({ ...back, signatures: [] }).toEqual({ ...sent, usage: undefined, finishReason: undefined, signatures: [] });
            return;
          }
          expect(error).toBeUndefined();
          expect({ ...back, usage: usageAs(c, back.usage), signatures: c.keepsSignatures ? back.signatures : [] }).toEqual({
            ...sent,
            finishReason,
            usage: usageAs(c, sent.usage),
            signatures: c.keepsSignatures ? sent.signatures : [],
          });
        }),
        RUNS,
      );
    });

    it("turns any malformed upstream body into a GatewayError", () => {
      fc.assert(
        fc.property(fc.oneof(fc.anything(), wireLikeJson), (body) => {
          onlyGatewayErrors(() => t.responseToIr(body));
          t.usageOf(body);
        }),
        RUNS,
      );
    });

    it("turns any malformed upstream stream into a GatewayError, in the decoder and the observer alike", () => {
      fc.assert(
        fc.property(brokenSseEvents, (events) => {
          onlyGatewayErrors(() => {
            const decoder = t.createStreamDecoder(() => undefined);
            for (const e of events) decoder.push(e);
            decoder.end();
          });
          // An observer throws only to replace an upstream error event with the gateway's own.
          onlyGatewayErrors(() => {
            const observer = t.createStreamObserver({});
            for (const e of events) observer.push(e);
          });
        }),
        RUNS,
      );
    });

    it("never throws reading arbitrary request bodies, except a 400 GatewayError", () => {
      fc.assert(
        fc.property(fc.oneof(fc.anything(), wireLikeJson), (body) => {
          t.peek(body, c.info({ model: "m", stream: false, messages: [] }));
          onlyGatewayErrors(() => t.requestToIr(body, c.info({ model: "m", stream: false, messages: [] })), 400);
        }),
        RUNS,
      );
    });
  });
}

// Keeps the SSE parser import honest: encoders must emit frames the core parser reads back.
describe("encoder framing", () => {
  it("every encoder's output parses as SSE events with JSON or [DONE] data", () => {
    for (const c of FORMATS) {
      fc.assert(
        fc.property(irStream, (events) => {
          const datas: string[] = [];
          const parser = new SseParser((e) => datas.push(e.data));
          parser.push(encodeEvents(c.translator, { model: "m", stream: true, messages: [] }, events));
          parser.end();
          for (const d of datas) if (d !== "[DONE]") JSON.parse(d);
        }),
        { numRuns: 50 },
      );
    }
  });
});
