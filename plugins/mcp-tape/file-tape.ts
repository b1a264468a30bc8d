/** One session's tape: an append-only JSONL file, written in frame order through one stream. */
import { createWriteStream, type WriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import { join } from "node:path";
import type { Logger } from "../../core/index.js";
import type { SessionTape, TapeLine } from "../../lib/mcp/tape.js";

export const PLUGIN = "mcp-tape";

export class FileTape implements SessionTape {
  private readonly out: WriteStream;
  private failed = false;

  constructor(dir: string, private readonly session: string, log: Logger) {
    // The session id is the gateway's own UUID, never the client's: safe as a file name.
    this.out = createWriteStream(join(dir, `${session}.jsonl`), { flags: "a", mode: 0o600 });
    this.out.on("error", (err) => {
      if (!this.failed) log.error({ session, err: err.message }, "mcp tape cannot be written; the session goes on untaped");
      this.failed = true;
    });
  }

  write(from: TapeLine["from"], frame: unknown): void {
    if (this.failed) return;
    const line: TapeLine = { t: Date.now(), session: this.session, from, frame };
    this.out.write(`${JSON.stringify(line)}\n`);
  }

  async close(): Promise<void> {
    this.out.end();
    await finished(this.out).catch(() => undefined);
  }
}
