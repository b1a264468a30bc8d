/**
 * fast-check generators for the IR, in two flavours: well-formed conversations (what a real client
 * could send: system first, tool results answering the calls before them) for round-trip
 * properties, and chaotic ones (any part in any role) for "never throws" properties. Plus random
 * JSON in the shapes upstream streams use, for decoder robustness.
 */
import fc from "fast-check";
import type { IrImagePart, IrMessage, IrPart, IrRequest, IrResponse, IrStreamEvent, IrTextPart, IrTool, IrUsage } from "../../../core/index.js";

/** Drops undefined-valued keys so generated objects look like parsed JSON. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const words = fc.string({ minLength: 1, maxLength: 24 }).filter((s) => s.trim().length > 0);
const identifier = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/);
/** Decimal values JSON writes and reads back exactly, without -0. */
const decimal = (min: number, max: number) => fc.integer({ min: min * 100, max: max * 100 }).map((n) => (n === 0 ? 0 : n / 100));
const cacheControl = opt(fc.constant({ type: "ephemeral" as const }));

export const textPart: fc.Arbitrary<IrTextPart> = fc.record({ text: words, cacheControl }).map(({ text, cacheControl: cc }) => compact({ type: "text" as const, text, cacheControl: cc }));

export const imagePart: fc.Arbitrary<IrImagePart> = fc
  .record({
    source: fc.oneof(
      fc.webUrl({ withQueryParameters: false, withFragments: false }).map((url) => ({ kind: "url" as const, url: `${url}/img.png` })),
      fc.record({
        kind: fc.constant("base64" as const),
        mediaType: fc.constantFrom("image/png", "image/jpeg", "image/gif", "image/webp"),
        data: fc.base64String({ minLength: 4, maxLength: 40 }).filter((s) => s.length > 0),
      }),
    ),
    detail: opt(fc.constantFrom("auto" as const, "low" as const, "high" as const)),
    cacheControl,
  })
  .map(({ source, detail, cacheControl: cc }) => compact({ type: "image" as const, source, detail, cacheControl: cc }));

const jsonArguments = fc.dictionary(identifier, fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean()), { maxKeys: 3 }).map((o) => JSON.stringify(o));

const toolSchema = fc
  .dictionary(identifier, fc.constantFrom({ type: "string" }, { type: "integer" }, { type: "boolean" }), { minKeys: 1, maxKeys: 3 })
  .map((properties) => ({ type: "object", properties, required: Object.keys(properties).slice(0, 1) }));

export const tools: fc.Arbitrary<IrTool[]> = fc
  .uniqueArray(
    fc.record({ name: identifier, description: opt(words), parameters: toolSchema, strict: opt(fc.boolean()), cacheControl }),
    { minLength: 1, maxLength: 3, selector: (t) => t.name },
  )
  .map((list) => list.map((t) => compact(t)));

const thinkingPart = fc
  .record({ text: words, signature: opt(fc.base64String({ minLength: 8, maxLength: 24 }).filter((s) => s.length > 0)) })
  .map(({ text, signature }) => compact({ type: "thinking" as const, text, signature }));

/** One user turn, an assistant reply and, when the reply calls tools, one tool message per call. */
function round(index: number, toolNames: string[]): fc.Arbitrary<IrMessage[]> {
  return fc
    .record({
      userParts: fc.array(fc.oneof({ weight: 3, arbitrary: textPart }, { weight: 1, arbitrary: imagePart }), { minLength: 1, maxLength: 3 }),
      thinking: opt(thinkingPart),
      texts: fc.array(textPart.map((p) => ({ type: "text" as const, text: p.text })), { maxLength: 2 }),
      calls: toolNames.length === 0 ? fc.constant([] as Array<{ name: string; arguments: string }>) : fc.array(fc.record({ name: fc.constantFrom(...toolNames), arguments: jsonArguments }), { maxLength: 3 }),
      results: fc.array(
        fc.record({
          content: fc.array(fc.oneof({ weight: 4, arbitrary: textPart.map((p) => ({ type: "text" as const, text: p.text })) }, { weight: 1, arbitrary: imagePart.map((p) => compact({ ...p, cacheControl: undefined })) }), {
            minLength: 1,
            maxLength: 2,
          }),
          isError: opt(fc.constant(true)),
        }),
        { minLength: 3, maxLength: 3 },
      ),
    })
    .map(({ userParts, thinking, texts, calls, results }) => {
      const assistant: IrPart[] = [...(thinking === undefined ? [] : [thinking]), ...texts];
      const ids = calls.map((_c, i) => `call_${index}_${i}`);
      calls.forEach((c, i) => assistant.push({ type: "tool_call", id: ids[i]!, name: c.name, arguments: c.arguments }));
      if (assistant.length === 0) assistant.push({ type: "text", text: "ok" });
      const messages: IrMessage[] = [
        { role: "user", content: userParts },
        { role: "assistant", content: assistant },
      ];
      calls.forEach((c, i) => {
        const r = results[i]!;
        messages.push({ role: "tool", content: [compact({ type: "tool_result" as const, toolCallId: ids[i]!, name: c.name, content: r.content, isError: r.isError })] });
      });
      return messages;
    });
}

export const irRequest: fc.Arbitrary<IrRequest> = fc
  .record({
    model: identifier,
    stream: fc.boolean(),
    system: opt(fc.array(textPart, { minLength: 1, maxLength: 2 })),
    tools: opt(tools),
    rounds: fc.integer({ min: 1, max: 3 }),
    finalUser: fc.array(textPart, { minLength: 1, maxLength: 2 }),
    temperature: opt(decimal(0, 2)),
    topP: opt(decimal(0, 1)),
    topK: opt(fc.integer({ min: 1, max: 100 })),
    maxTokens: opt(fc.integer({ min: 1, max: 100_000 })),
    stop: opt(fc.array(words, { minLength: 1, maxLength: 3 })),
    seed: opt(fc.integer({ min: 0, max: 2 ** 31 - 1 })),
    presencePenalty: opt(decimal(-2, 2)),
    frequencyPenalty: opt(decimal(-2, 2)),
    n: opt(fc.integer({ min: 1, max: 3 })),
    responseFormat: opt(
      fc.oneof(
        fc.constant({ type: "text" as const }),
        fc.constant({ type: "json_object" as const }),
        fc
          .record({ name: identifier, schema: toolSchema, strict: opt(fc.boolean()), description: opt(words) })
          .map((r) => compact({ type: "json_schema" as const, ...r })),
      ),
    ),
    reasoning: opt(
      fc.oneof(
        fc.record({ effort: fc.constantFrom("minimal" as const, "low" as const, "medium" as const, "high" as const) }),
        fc.record({ budgetTokens: fc.integer({ min: 1024, max: 32_000 }) }),
        fc.record({ budgetTokens: fc.integer({ min: 1024, max: 32_000 }), includeThoughts: fc.boolean() }),
      ),
    ),
    user: opt(identifier),
    metadata: opt(fc.dictionary(identifier, fc.string({ maxLength: 12 }), { minKeys: 1, maxKeys: 3 })),
    parallelToolCalls: opt(fc.boolean()),
    choice: fc.nat(4),
  })
  .chain((r) => {
    const names = (r.tools ?? []).map((t) => t.name);
    return fc.tuple(...Array.from({ length: r.rounds }, (_v, i) => round(i, names))).map((rounds) => {
      const { system, rounds: _n, finalUser, choice, tools: toolList, ...fields } = r;
      const messages: IrMessage[] = [...(system === undefined ? [] : [{ role: "system" as const, content: system }]), ...rounds.flat(), { role: "user", content: finalUser }];
      const toolChoice =
        toolList === undefined ? undefined : [{ type: "auto" as const }, { type: "none" as const }, { type: "required" as const }, { type: "tool" as const, name: names[0]! }, undefined][choice];
      return compact({ ...fields, messages, tools: toolList, toolChoice }) as IrRequest;
    });
  });

const anyPart: fc.Arbitrary<IrPart> = fc.oneof(
  textPart,
  imagePart,
  thinkingPart,
  fc.record({ type: fc.constant("thinking" as const), text: fc.constant(""), redactedData: fc.base64String() }),
  fc.record({ type: fc.constant("tool_call" as const), id: fc.string(), name: fc.string(), arguments: fc.oneof(jsonArguments, fc.string()) }),
  fc.record({
    type: fc.constant("tool_result" as const),
    toolCallId: fc.string(),
    content: fc.array(fc.oneof(textPart, imagePart), { maxLength: 2 }),
    isError: opt(fc.boolean()),
  }),
);

/** Any part in any role, empty strings and messages included: for properties that only ask "does it throw". */
export const chaoticIrRequest: fc.Arbitrary<IrRequest> = fc
  .record({
    model: fc.string(),
    stream: fc.boolean(),
    messages: fc.array(fc.record({ role: fc.constantFrom("system" as const, "user" as const, "assistant" as const, "tool" as const), content: fc.array(anyPart, { maxLength: 4 }) }), { maxLength: 5 }),
    tools: opt(fc.array(fc.record({ name: fc.string(), parameters: fc.object() }), { maxLength: 2 })),
    toolChoice: opt(fc.oneof(fc.constant({ type: "auto" as const }), fc.record({ type: fc.constant("tool" as const), name: fc.string() }))),
    maxTokens: opt(fc.integer({ min: 0, max: 10 })),
    reasoning: opt(fc.record({ effort: opt(fc.constantFrom("minimal" as const, "high" as const)), budgetTokens: opt(fc.integer({ min: 0, max: 5000 })), includeThoughts: opt(fc.boolean()) })),
    stop: opt(fc.array(fc.string(), { maxLength: 6 })),
    n: opt(fc.integer({ min: 1, max: 4 })),
    extra: opt(fc.dictionary(fc.string(), fc.jsonValue())),
  })
  .map((r) => compact(r) as IrRequest);

export const irUsage: fc.Arbitrary<IrUsage> = fc
  .record({
    input: fc.nat(100_000),
    cachedRead: opt(fc.nat(50_000)),
    cacheWrite: opt(fc.nat(50_000)),
    output: fc.nat(50_000),
    reasoning: opt(fc.nat(50_000)),
  })
  .map(({ input, cachedRead, cacheWrite, output, reasoning }) =>
    // IR convention: input includes cached and cache-write tokens, output includes reasoning.
    compact({
      inputTokens: input + (cachedRead ?? 0) + (cacheWrite ?? 0),
      outputTokens: output + (reasoning ?? 0),
      cachedReadTokens: cachedRead,
      cacheWriteTokens: cacheWrite,
      reasoningTokens: reasoning,
    }),
  );

const finishReason = fc.constantFrom("stop" as const, "length" as const, "tool_calls" as const, "content_filter" as const, "error" as const, "other" as const);

export const irResponse: fc.Arbitrary<IrResponse> = fc
  .record({
    id: identifier,
    model: identifier,
    created: fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }),
    thinking: opt(thinkingPart),
    texts: fc.array(words, { maxLength: 3 }),
    calls: fc.array(fc.record({ name: identifier, arguments: jsonArguments }), { maxLength: 3 }),
    finishReason,
    usage: opt(irUsage),
  })
  .map(({ thinking, texts, calls, ...r }) => {
    const content: IrPart[] = [
      ...(thinking === undefined ? [] : [thinking]),
      ...(texts.length === 0 ? [] : [{ type: "text" as const, text: texts.join("") }]),
      ...calls.map((c, i) => ({ type: "tool_call" as const, id: `call_${i}`, name: c.name, arguments: c.arguments })),
    ];
    return compact({ ...r, content }) as IrResponse;
  });

/** A stream as a decoder would emit it: start, thinking, text, sequential tool calls, then usage and finish. */
export const irStream: fc.Arbitrary<IrStreamEvent[]> = fc
  .record({
    id: identifier,
    model: identifier,
    thinking: fc.array(words, { maxLength: 3 }),
    signature: opt(fc.base64String({ minLength: 8, maxLength: 16 }).filter((s) => s.length > 0)),
    text: fc.array(words, { maxLength: 4 }),
    calls: fc.array(fc.record({ name: identifier, pieces: fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 4 }) }), { maxLength: 3 }),
    usage: opt(irUsage),
    finishReason,
    usageFirst: fc.boolean(),
  })
  .map((r) => {
    const events: IrStreamEvent[] = [{ type: "start", id: r.id, model: r.model }];
    for (const t of r.thinking) events.push({ type: "thinking", text: t });
    if (r.signature !== undefined && r.thinking.length > 0) events.push({ type: "thinking", text: "", signature: r.signature });
    for (const t of r.text) events.push({ type: "text", text: t });
    r.calls.forEach((c, i) => {
      // Arguments are JSON text; pieces split an object into arbitrary fragments.
      const json = JSON.stringify({ v: c.pieces.join("") });
      const cuts = c.pieces.map((_p, k) => Math.floor((json.length * (k + 1)) / c.pieces.length));
      let from = 0;
      cuts.forEach((to, k) => {
        events.push({ type: "tool_call", index: i, ...(k === 0 ? { id: `call_${i}`, name: c.name } : {}), argumentsDelta: json.slice(from, to) });
        from = to;
      });
    });
    const finish: IrStreamEvent = { type: "finish", finishReason: r.finishReason };
    if (r.usage === undefined) events.push(finish);
    else if (r.usageFirst) events.push({ type: "usage", usage: r.usage }, finish);
    else events.push(finish, { type: "usage", usage: r.usage });
    return events;
  });

const WIRE_KEYS = [
  "id", "model", "type", "object", "index", "choices", "delta", "content", "role", "tool_calls", "function", "name", "arguments",
  "finish_reason", "usage", "prompt_tokens", "completion_tokens", "message", "content_block", "text", "thinking", "signature",
  "partial_json", "stop_reason", "input_tokens", "output_tokens", "candidates", "parts", "functionCall", "args", "finishReason",
  "usageMetadata", "promptTokenCount", "response", "item", "item_id", "output_index", "delta", "error", "status", "output", "call_id",
];

/** JSON objects built from the keys upstream streams use, with arbitrary values: near-misses of real chunks. */
export const wireLikeJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.jsonValue({ maxDepth: 1 }), tie("object"), fc.array(tie("value"), { maxLength: 3 })),
  object: fc.dictionary(fc.constantFrom(...WIRE_KEYS), tie("value"), { maxKeys: 5 }),
})).object;

const EVENT_NAMES = ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "ping", "error", "response.created", "response.output_text.delta", "response.completed", "response.output_item.added", "response.function_call_arguments.delta"];

/** SSE events an upstream might send when something is wrong: garbage, truncated JSON, or well-formed JSON of the wrong shape. */
export const brokenSseEvents = fc.array(
  fc.record({
    event: opt(fc.constantFrom(...EVENT_NAMES)),
    data: fc.oneof(fc.string(), fc.constant("[DONE]"), wireLikeJson.map((v) => JSON.stringify(v)), wireLikeJson.map((v) => JSON.stringify(v).slice(0, -1))),
  }).map((e) => compact(e)),
  { maxLength: 8 },
);
