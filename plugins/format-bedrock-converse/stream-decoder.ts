/**
 * Bedrock ConverseStream -> IR stream events. provider-bedrock reads the binary event-stream
 * frames and hands each on as one SSE event named by its `:event-type` (`messageStart`,
 * `contentBlockDelta`…) or, for an exception frame, its `:exception-type` (`throttlingException`…),
 * with the frame's JSON payload as data. Usage comes in the `metadata` event, after `messageStop`.
 * Failure contract as every format's decoder: only GatewayErrors, and nothing after one.
 */
import { randomUUID } from "node:crypto";
import { GatewayError, isObject, type IrStreamEvent, type IrUsage, type SseEvent, type StreamDecoder, type StreamObserver, type WireObject } from "../../core/index.js";
import { malformedUpstream, streamException } from "./errors.js";
import { converseStopReasonOf, converseUsageToIr, stopReasonToIr } from "./response.js";

/** Bedrock names every exception member of its stream union `…Exception`. */
function isException(name: string | undefined): boolean {
  return name !== undefined && name.endsWith("Exception");
}

function parse(event: SseEvent): WireObject {
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    throw malformedUpstream(`${event.event ?? "event"} data is not JSON`, true);
  }
  if (!isObject(data)) throw malformedUpstream("event data is not a JSON object", true);
  return data;
}

export class ConverseStreamDecoder implements StreamDecoder {
  private started = false;
  finishReason: string | undefined;
  private stopped = false;
  private failed = false;
  /** Content block index -> IR tool-call index (dense, in order of appearance). */
  private readonly toolIndexes = new Map<number, number>();

  constructor(private readonly emit: (event: IrStreamEvent) => void) {}

  push(event: SseEvent): void {
    if (this.failed) return;
    try {
      this.read(event);
    } catch (err) {
      this.failed = true;
      throw err instanceof GatewayError ? err : malformedUpstream("unreadable event", true);
    }
  }

  end(): void {
    if (this.failed) return;
    this.failed = true;
    if (!this.stopped) throw malformedUpstream("stream ended before messageStop", true);
  }

  private read(event: SseEvent): void {
    const data = parse(event);
    if (isException(event.event)) throw streamException(event.event!, data);
    switch (event.event) {
      case "messageStart":
        if (this.started) throw malformedUpstream("second messageStart", true);
        this.started = true;
        return this.emit({ type: "start", id: `bedrock-${randomUUID()}`, model: "" });
      case "contentBlockStart":
        return this.blockStart(data);
      case "contentBlockDelta":
        return this.blockDelta(data);
      case "messageStop":
        this.ensureStarted();
        this.stopped = true;
        if (typeof data.stopReason === "string") this.finishReason = data.stopReason;
        return this.emit({ type: "finish", finishReason: stopReasonToIr(data.stopReason) });
      case "metadata": {
        const usage = converseUsageToIr(data.usage);
        if (usage !== undefined) this.emit({ type: "usage", usage });
        return;
      }
      default:
        // contentBlockStop and event types newer than this translator carry nothing to relay.
        return;
    }
  }

  private ensureStarted(): void {
    if (!this.started) throw malformedUpstream("content before messageStart", true);
  }

  private blockStart(data: WireObject): void {
    this.ensureStarted();
    const use = isObject(data.start) ? data.start.toolUse : undefined;
    if (!isObject(use)) return;
    if (typeof data.contentBlockIndex !== "number" || typeof use.toolUseId !== "string" || typeof use.name !== "string") {
      throw malformedUpstream("contentBlockStart toolUse without index, toolUseId or name", true);
    }
    const index = this.toolIndexes.size;
    this.toolIndexes.set(data.contentBlockIndex, index);
    this.emit({ type: "tool_call", index, id: use.toolUseId, name: use.name, argumentsDelta: "" });
  }

  private blockDelta(data: WireObject): void {
    this.ensureStarted();
    const delta = data.delta;
    if (typeof data.contentBlockIndex !== "number" || !isObject(delta)) throw malformedUpstream("contentBlockDelta without index or delta", true);
    if (typeof delta.text === "string") return this.emit({ type: "text", text: delta.text });
    if (isObject(delta.toolUse)) {
      const index = this.toolIndexes.get(data.contentBlockIndex);
      if (index === undefined) throw malformedUpstream("toolUse delta for a block that started no tool call", true);
      if (typeof delta.toolUse.input === "string") this.emit({ type: "tool_call", index, argumentsDelta: delta.toolUse.input });
      return;
    }
    if (isObject(delta.reasoningContent)) {
      const reasoning = delta.reasoningContent;
      if (typeof reasoning.text === "string") this.emit({ type: "thinking", text: reasoning.text });
      else if (typeof reasoning.signature === "string") this.emit({ type: "thinking", text: "", signature: reasoning.signature });
    }
  }
}

/** Usage of a ConverseStream seen on its way (the `metadata` event). */
export class ConverseUsageObserver implements StreamObserver {
  readonly filters = false;
  usage: IrUsage | undefined;
  finishReason: string | undefined;

  push(event: SseEvent): void {
    if (isException(event.event)) throw streamException(event.event!, parse(event));
    if (event.event === "metadata") this.usage = converseUsageToIr(parse(event).usage);
    if (event.event === "messageStop") this.finishReason = converseStopReasonOf(parse(event));
  }
}
