import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBody } from "../../../core/engine/read-body.js";

let server: Server;
let url: string;
beforeAll(async () => {
  // A reply far larger than any limit below, written in many chunks.
  server = createServer((_req, res) => {
    for (let i = 0; i < 64; i++) res.write(Buffer.alloc(16 * 1024, 0x61));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("readBody", () => {
  it("reads a body whole, one chunk or many", async () => {
    expect((await readBody(Readable.from([Buffer.from("ab"), Buffer.from("cd")]))).toString()).toBe("abcd");
  });

  it("rejects past maxBytes with the caller's error and stops reading", async () => {
    const err = await readBody(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), { maxBytes: 15, overLimit: () => new Error("too big") }).catch((e: unknown) => e);
    expect(err).toEqual(new Error("too big"));
  });

  it("truncates an undici body at maxBytes and releases it without an unhandled abort error", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      const res = await request(url);
      const head = await readBody(res.body, { maxBytes: 1000, overLimit: "truncate" });
      expect(head).toEqual(Buffer.alloc(1000, 0x61));
      expect(res.body.destroyed).toBe(true);
      // The abort undici emits on destroy comes a tick later: give it its turn.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("uncaughtException", onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  it("rejects with closedEarly when the stream closes before it ends", async () => {
    const body = new Readable({ read() {} });
    const reading = readBody(body, { closedEarly: () => new Error("client gone") });
    body.push("partial");
    body.destroy();
    await expect(reading).rejects.toThrow("client gone");
  });
});
