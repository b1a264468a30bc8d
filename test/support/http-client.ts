/**
 * A raw node:http client for http-route tests: it sends exactly the headers it is given (hop-by-hop
 * ones included) and a body that may be a generated stream, and reads the whole reply.
 */
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";

export interface ClientReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON, when it is. */
  json: any;
}

export interface ClientRequest {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer | Readable;
}

export function send(url: string, init: ClientRequest = {}): Promise<ClientReply> {
  return new Promise((resolve, reject) => {
    const body = init.body;
    const headers: OutgoingHttpHeaders = { ...init.headers };
    // node:http frames DELETE and GET bodies with neither length nor chunks unless told.
    if ((typeof body === "string" || Buffer.isBuffer(body)) && headers["content-length"] === undefined) headers["content-length"] = Buffer.byteLength(body);
    const req = request(url, { method: init.method ?? "GET", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        const text = body.toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json });
      });
    });
    req.on("error", reject);
    if (body === undefined) req.end();
    else if (typeof body === "string" || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}
