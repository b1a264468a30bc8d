/** The cache key: what makes two requests the same question, and the client's cache-control. */
import { describe, expect, it } from "vitest";
import type { IrRequest } from "../../../core/index.js";
import { canonicalJson, clientDirectives, requestKey } from "../../../plugins/cache/request-key.js";
import { AnswerCollector, eventsOf } from "../../../plugins/cache/answer.js";

const base: IrRequest = {
  model: "client-name",
  stream: false,
  maxTokens: 64,
  messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
};

describe("requestKey", () => {
  it("ignores key order, user, metadata, stream, labels in extra and prompt caching marks", () => {
    const key = requestKey(base, "gpt-4o");
    const relabelled: IrRequest = {
      messages: [{ content: [{ text: "hi", type: "text", cacheControl: { type: "ephemeral" } }], role: "user" }],
      maxTokens: 64,
      stream: true,
      streamUsage: true,
      model: "another-alias",
      user: "u-1",
      metadata: { ticket: "7" },
      extra: { store: true, service_tier: "flex", prompt_cache_key: "k" },
    };
    expect(requestKey(relabelled, "gpt-4o")).toBe(key);
  });

  it("tells apart the model after aliasing, sampling, tools, and history the IR keeps in extra", () => {
    const key = requestKey(base, "gpt-4o");
    expect(requestKey(base, "gpt-4o-mini")).not.toBe(key);
    expect(requestKey({ ...base, temperature: 0 }, "gpt-4o")).not.toBe(key);
    expect(requestKey({ ...base, tools: [{ name: "f", parameters: {} }] }, "gpt-4o")).not.toBe(key);
    expect(requestKey({ ...base, extra: { previous_response_id: "resp_1" } }, "gpt-4o")).not.toBe(requestKey({ ...base, extra: { previous_response_id: "resp_2" } }, "gpt-4o"));
  });

  it("writes canonical JSON: sorted keys at every depth, undefined members left out", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: undefined }], c: "x" } })).toBe('{"a":{"c":"x","d":[1,{"f":2}]},"b":1}');
  });
});

describe("clientDirectives", () => {
  it("reads no-cache and no-store among other directives, in any case", () => {
    expect(clientDirectives({})).toEqual({ lookup: true, store: true });
    expect(clientDirectives({ "cache-control": "max-age=0, No-Cache" })).toEqual({ lookup: false, store: true });
    expect(clientDirectives({ "cache-control": "no-store" })).toEqual({ lookup: false, store: false });
  });
});

describe("answers in IR", () => {
  it("a response cut into stream events collects back into the same response", () => {
    const response = {
      id: "r1", model: "m", created: 1, finishReason: "tool_calls" as const, usage: { inputTokens: 3, outputTokens: 4 },
      content: [
        { type: "thinking" as const, text: "hmm", signature: "sig" },
        { type: "text" as const, text: "calling" },
        { type: "tool_call" as const, id: "c1", name: "f", arguments: '{"a":1}' },
        { type: "tool_call" as const, id: "c2", name: "g", arguments: "{}" },
      ],
    };
    const collector = new AnswerCollector();
    for (const event of eventsOf(response)) collector.push(event);
    expect(collector.response()).toEqual(response);
  });

  it("a stream that never finished is no answer", () => {
    const collector = new AnswerCollector();
    collector.push({ type: "start", id: "r", model: "m" });
    collector.push({ type: "text", text: "half" });
    expect(collector.response()).toBeUndefined();
  });
});
