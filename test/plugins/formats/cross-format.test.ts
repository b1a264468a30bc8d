/**
 * Every format's recorded requests, responses and streams, read into the IR and written out in
 * every other format, then read back by that format: nothing the target can carry gets lost.
 */
import { describe, expect, it } from "vitest";
import type { IrFinishReason, IrRequest, IrResponse } from "../../../core/index.js";
import { carriedView } from "./carried-view.js";
import { FORMATS, usageAs, type FormatCase } from "./format-cases.js";
import { collectStream, decodeSse, encodeEvents, withParsedArguments, readFixture, readFixtureText } from "./stream-support.js";

function responseView(response: IrResponse, target: FormatCase) {
  const hasCalls = response.content.some((p) => p.type === "tool_call");
  return {
    text: response.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join(""),
    thinking: response.content.flatMap((p) => (p.type === "thinking" ? [p.text] : [])).join(""),
    calls: response.content.flatMap((p) => (p.type === "tool_call" ? [{ id: p.id, name: p.name, arguments: JSON.parse(p.arguments) as unknown }] : [])),
    finishReason: target.finish(response.finishReason, hasCalls),
    usage: usageAs(target, response.usage),
  };
}

for (const source of FORMATS) {
  const requests = readFixture<Array<{ name: string; ir: IrRequest; wire: unknown }>>(source.fixtures, "requests.json");
  const responses = readFixture<Array<{ name: string; wire: unknown }>>(source.fixtures, "responses.json");
  const streams = readFixture<Array<{ name: string; file: string }>>(source.fixtures, "streams.json");

  for (const target of FORMATS) {
    if (target === source) continue;
    const s = source.translator;
    const t = target.translator;
    describe(`${s.format} -> ${t.format}`, () => {
      for (const f of requests) {
        it(`carries the request across: ${f.name}`, () => {
          const ir = s.requestToIr(f.wire, source.info(f.ir));
          delete ir.extra; // foreign fields: the translate step drops or rejects them before this point
          const lost = t.unsupportedFields!(ir);
          const back = t.requestToIr(JSON.parse(JSON.stringify(t.requestFromIr(ir))), target.info(ir));
          target.normalizeRequest?.(back, ir);
          expect(carriedView(back, lost, target.view)).toEqual(carriedView(ir, lost, target.view));
        });
      }
      for (const f of responses) {
        it(`carries the response across: ${f.name}`, () => {
          const ir = s.responseToIr(f.wire);
          const request: IrRequest = { model: ir.model, stream: false, messages: [] };
          const back = t.responseToIr(JSON.parse(JSON.stringify(t.responseFromIr(ir, request))));
          const view = responseView(back, target);
          const expected = responseView(ir, target);
          expect(view).toEqual(expected);
          expect(back.id).toBe(ir.id);
          expect(back.model).toBe(ir.model);
        });
      }
      for (const f of streams) {
        it(`carries the stream across: ${f.name}`, () => {
          const events = decodeSse(s, readFixtureText(source.fixtures, f.file));
          const back = withParsedArguments(collectStream(decodeSse(t, encodeEvents(t, { model: "m", stream: true, streamUsage: true, messages: [] }, events))));
          const sent = withParsedArguments(collectStream(events));
          expect({ ...back, usage: usageAs(target, back.usage), signatures: target.keepsSignatures ? back.signatures : [] }).toEqual({
            ...sent,
            finishReason: target.finish(sent.finishReason as IrFinishReason, sent.toolCalls.length > 0),
            usage: usageAs(target, sent.usage),
            signatures: target.keepsSignatures ? sent.signatures : [],
          });
        });
      }
    });
  }
}
