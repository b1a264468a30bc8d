/**
 * Documents and audio toward Converse: a PDF or a text document becomes a `document` block in the
 * user's turn; what Converse cannot take (audio, a URL or file document, an unknown type, a
 * document outside a user turn) is left out and named for the translate policy.
 */
import { describe, expect, it } from "vitest";
import type { IrRequest } from "../../../core/index.js";
import { converseRequestFromIr, converseUnsupportedFields } from "../../../plugins/format-bedrock-converse/request-from-ir.js";

const request = (content: IrRequest["messages"][number]["content"], role: "user" | "assistant" = "user"): IrRequest =>
  ({ model: "anthropic.claude", messages: [{ role, content }] }) as IrRequest;

describe("format-bedrock-converse documents and audio", () => {
  it("carries a base64 PDF and a text document as document blocks with a name Converse accepts", () => {
    const ir = request([
      { type: "text", text: "Summarise these." },
      { type: "document", title: "Q3 report (final).pdf", source: { kind: "base64", mediaType: "application/pdf", data: "JVBERi0xLjQ=" } },
      { type: "document", source: { kind: "text", text: "plain notes" } },
    ]);
    expect(converseUnsupportedFields(ir)).toEqual([]);
    expect((converseRequestFromIr(ir).messages as any)[0].content).toEqual([
      { text: "Summarise these." },
      { document: { format: "pdf", name: "Q3 report (final) pdf", source: { bytes: "JVBERi0xLjQ=" } } },
      { document: { format: "txt", name: "document", source: { text: "plain notes" } } },
    ]);
  });

  it("names what it cannot carry: audio, URL and file documents, unknown document types, documents outside a user turn", () => {
    expect(converseUnsupportedFields(request([{ type: "audio", mediaType: "audio/wav", data: "UklGRg==" }]))).toEqual(["messages.audio"]);
    expect(converseUnsupportedFields(request([{ type: "document", source: { kind: "url", url: "https://example.com/a.pdf" } }]))).toEqual(["messages.document.url"]);
    expect(converseUnsupportedFields(request([{ type: "document", source: { kind: "file", fileId: "file-1" } }]))).toEqual(["messages.document.file"]);
    expect(converseUnsupportedFields(request([{ type: "document", source: { kind: "base64", mediaType: "image/svg+xml", data: "PHN2Zz4=" } }]))).toEqual(["messages.document.mediaType"]);
    const inAssistant = request([{ type: "text", text: "see" }, { type: "document", source: { kind: "text", text: "x" } }], "assistant");
    expect(converseUnsupportedFields(inAssistant)).toEqual(["messages.document"]);
    expect((converseRequestFromIr(inAssistant).messages as any)[0].content).toEqual([{ text: "see" }]);
    expect(converseUnsupportedFields({ ...request([{ type: "text", text: "hi" }]), topLogprobs: 3 })).toEqual(["topLogprobs"]);
  });
});
