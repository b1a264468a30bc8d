/**
 * A ConverseStream body (`application/vnd.amazon.eventstream`) as SSE text, so the gateway's one
 * stream relay and the bedrock-converse decoder read it like any other stream. Each binary frame
 * is cut at its prelude's length and decoded (CRCs checked) by the AWS SDK's own codec; an event
 * becomes `event: {:event-type}`, an exception `event: {:exception-type}`, with the frame's JSON
 * payload as data.
 */
import { Transform, pipeline, type Readable, type TransformCallback } from "node:stream";
import { EventStreamCodec, type Message } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { GatewayError } from "../../core/index.js";
import { sseFrame } from "../../lib/wire/sse.js";

/** The prelude's total-length field, then header length and prelude CRC. */
const PRELUDE_BYTES = 12;
/** Bedrock frames are a few KB; a length beyond this is a corrupt stream, not a frame to wait for. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

function brokenStream(source: string, message: string): GatewayError {
  return new GatewayError({ status: 502, type: "upstream_error", code: "bad_upstream_stream", message: `upstream sent an invalid event stream: ${message}`, failure: "stream", source });
}

function headerString(message: Message, name: string): string | undefined {
  const header = message.headers[name];
  return header?.type === "string" ? header.value : undefined;
}

class EventStreamToSse extends Transform {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly source: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      let text = "";
      while (this.pending.length >= PRELUDE_BYTES) {
        const length = this.pending.readUInt32BE(0);
        if (length < PRELUDE_BYTES + 4 || length > MAX_FRAME_BYTES) throw brokenStream(this.source, `a frame claims ${length} bytes`);
        if (this.pending.length < length) break;
        text += this.frameToSse(this.pending.subarray(0, length));
        this.pending = this.pending.subarray(length);
      }
      done(null, text.length > 0 ? text : undefined);
    } catch (err) {
      done(err instanceof GatewayError ? err : brokenStream(this.source, err instanceof Error ? err.message : "unreadable frame"));
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.pending.length > 0 ? brokenStream(this.source, "the stream ended inside a frame") : null);
  }

  private frameToSse(frame: Buffer): string {
    const message = this.codec.decode(frame);
    const kind = headerString(message, ":message-type");
    const name = kind === "exception" ? headerString(message, ":exception-type") : kind === "event" ? headerString(message, ":event-type") : undefined;
    if (name === undefined) throw brokenStream(this.source, `a frame of type ${kind ?? "(none)"} names no event`);
    const data = Buffer.from(message.body).toString("utf8");
    return sseFrame(data.length > 0 ? data : "{}", name);
  }
}

/** The SSE view of an event-stream body; destroying it destroys the upstream body too. */
export function eventStreamAsSse(body: Readable, source: string): Readable {
  return pipeline(body, new EventStreamToSse(source), () => {});
}
