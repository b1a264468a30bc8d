import { describe, expect, it } from "vitest";
import { GatewayError, type AttemptOutcome, type IrRequest } from "../../../core/index.js";
import { CONTINUE_INSTRUCTION, ClientStream, continuationRequest } from "../../../plugins/translate/continuation.js";
import openaiChat from "../../../plugins/format-openai-chat/index.js";
import anthropic from "../../../plugins/format-anthropic-messages/index.js";

const ir: IrRequest = { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], stream: true };
/** An attempt's outcome, on which the stream notes the attempt's own usage. */
const outcome = (backend = "b"): AttemptOutcome => ({ backend, model: "m", latencyMs: 0 });
const broke = new GatewayError({ status: 502, type: "upstream_error", code: "upstream_body_failed", message: "broke", failure: "stream" });

/** A client stream in Anthropic's format, with the SSE text it wrote. */
function anthropicStream(max = 1) {
  let out = "";
  const stream = new ClientStream(anthropic.translator, ir, (t) => (out += t), max, outcome());
  return { stream, written: () => out, resume: (trimmed = 0) => stream.resume((t) => (out += t), trimmed, outcome()) };
}

describe("continuationRequest", () => {
  it("continues an Anthropic backend's answer as an assistant prefill without trailing whitespace, counting what it left off", () => {
    const { request, trimmed } = continuationRequest(ir, "The fox \n", "anthropic-messages");
    expect(request.messages.at(-1)).toEqual({ role: "assistant", content: [{ type: "text", text: "The fox" }] });
    expect(trimmed).toBe(2);
  });

  it("asks OpenAI and Gemini backends with the partial answer as the assistant's turn and an instruction after it", () => {
    for (const format of ["openai-chat", "openai-responses", "gemini"]) {
      const { request } = continuationRequest(ir, "The fox ", format);
      expect(request.messages.slice(-2)).toEqual([
        { role: "assistant", content: [{ type: "text", text: "The fox " }] },
        { role: "user", content: [{ type: "text", text: CONTINUE_INSTRUCTION }] },
      ]);
    }
  });

  it("sends the request as it was when nothing was written yet", () => {
    expect(continuationRequest(ir, "", "gemini").request).toBe(ir);
  });
});

describe("ClientStream", () => {
  it("writes one start, the text of both attempts, and one usage summed over them", () => {
    const { stream, written, resume } = anthropicStream();
    stream.push({ type: "start", id: "msg_1", model: "m" });
    stream.push({ type: "usage", usage: { inputTokens: 10, outputTokens: 0 } });
    stream.push({ type: "text", text: "The fox " });
    const notes: string[] = [];
    expect(stream.suspend(broke, notes)).toBe(true);
    expect(notes).toEqual(["translate: stream broke (upstream_body_failed) after 8 characters; continued on the next attempt"]);
    resume(1);
    stream.push({ type: "start", id: "msg_2", model: "m" });
    stream.push({ type: "text", text: " jumps." });
    stream.push({ type: "usage", usage: { inputTokens: 20, outputTokens: 3, cachedReadTokens: 4 } });
    stream.push({ type: "finish", finishReason: "stop" });
    stream.end();
    expect(stream.text).toBe("The fox jumps.");
    expect(stream.usage).toEqual({ inputTokens: 30, outputTokens: 3, cachedReadTokens: 4 });
    expect(written().match(/event: message_start/g)).toHaveLength(1);
    expect(written().match(/event: message_stop/g)).toHaveLength(1);
    // The prefill left one space off: the continuation's repeated space is taken off its front.
    expect(written()).toContain('"text":"jumps."');
  });

  it("is not continued after a tool call or reasoning, nor past maxContinuations, and says why on the record", () => {
    const notes: string[] = [];
    const tools = new ClientStream(openaiChat.translator, ir, () => {}, 1, outcome());
    tools.push({ type: "text", text: "Let me look." });
    tools.push({ type: "tool_call", index: 0, id: "call_1", name: "get_weather", argumentsDelta: "{" });
    expect(tools.suspend(broke, notes)).toBe(false);
    const thinking = new ClientStream(openaiChat.translator, ir, () => {}, 1, outcome());
    thinking.push({ type: "thinking", text: "hmm" });
    expect(thinking.suspend(broke, notes)).toBe(false);
    const { stream, resume } = anthropicStream(1);
    stream.push({ type: "text", text: "a" });
    expect(stream.suspend(broke, notes)).toBe(true);
    resume();
    expect(stream.suspend(broke, notes)).toBe(false);
    expect(notes).toEqual([
      "translate: stream broke (upstream_body_failed) and was not continued: it carried a tool call",
      "translate: stream broke (upstream_body_failed) and was not continued: it carried reasoning",
      "translate: stream broke (upstream_body_failed) after 1 characters; continued on the next attempt",
      "translate: stream broke (upstream_body_failed) and was not continued: 1 continuation(s) already made",
    ]);
  });
});
