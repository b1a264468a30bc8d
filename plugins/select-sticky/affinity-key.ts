/**
 * The affinity key of a request, read from where the `key` option points. Parsed once at create
 * into a reader that does no more per request than finding the value.
 */
import { GatewayError, type Exchange } from "../../core/index.js";

export interface AffinityKey {
  /** The key, or undefined when the request has none (absent, empty, or not a scalar). */
  read(exchange: Exchange): string | undefined;
  /** Where the key comes from, as a client should read it in an error: `header "x-session-id"`. */
  readonly describe: string;
  /** The request field a missing key names in a 400 (OpenAI's `param`). */
  readonly param: string | undefined;
}

export function compileAffinityKey(spec: string, plugin: string): AffinityKey {
  if (spec === "tenant") {
    return { read: (x) => x.tenant || undefined, describe: "tenant (set by an auth step)", param: undefined };
  }
  const colon = spec.indexOf(":");
  const kind = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  if (colon > 0 && name !== "") {
    if (kind === "header") {
      const header = name.toLowerCase();
      return {
        read: (x) => {
          const value = x.headers[header];
          const first = Array.isArray(value) ? value[0] : value;
          return first || undefined;
        },
        describe: `header "${header}"`,
        param: header,
      };
    }
    if (kind === "cookie") {
      return {
        read: (x) => {
          const cookie = x.headers.cookie;
          return typeof cookie === "string" ? cookieValue(cookie, name) : undefined;
        },
        describe: `cookie "${name}"`,
        param: name,
      };
    }
    if (kind === "body") {
      const tokens = pointerTokens(name, plugin);
      return { read: (x) => scalarAt(x.body, tokens), describe: `body field ${name}`, param: name };
    }
  }
  throw configError(plugin, `key "${spec}" is not one of tenant, header:<name>, cookie:<name>, body:<JSON pointer>`);
}

/** One cookie's value from a Cookie header, without building a map of all of them. */
function cookieValue(header: string, name: string): string | undefined {
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    let at = start;
    while (at < end && (header.charCodeAt(at) === 32 || header.charCodeAt(at) === 9)) at++;
    if (header.startsWith(name, at) && header.charCodeAt(at + name.length) === 61 /* = */) {
      let value = header.slice(at + name.length + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value || undefined;
    }
    start = end + 1;
  }
  return undefined;
}

/** RFC 6901: `/a/b~1c` -> ["a", "b/c"]; `~` must be followed by 0 or 1. */
function pointerTokens(pointer: string, plugin: string): string[] {
  if (!pointer.startsWith("/")) throw configError(plugin, `key body pointer "${pointer}" must start with "/"`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~(?![01])/.test(token)) throw configError(plugin, `key body pointer "${pointer}" has "~" not followed by 0 or 1 (write ~0 for ~ and ~1 for /)`);
      return token.replace(/~1/g, "/").replace(/~0/g, "~");
    });
}

function scalarAt(body: unknown, tokens: readonly string[]): string | undefined {
  let node = body;
  for (const token of tokens) {
    if (Array.isArray(node)) node = /^(0|[1-9][0-9]*)$/.test(token) ? node[Number(token)] : undefined;
    else if (node !== null && typeof node === "object") node = Object.hasOwn(node, token) ? (node as Record<string, unknown>)[token] : undefined;
    else return undefined;
  }
  if (typeof node === "string") return node || undefined;
  if (typeof node === "number" || typeof node === "boolean") return String(node);
  return undefined;
}

function configError(plugin: string, message: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", param: "/key", source: plugin, message: `${plugin}: ${message}` });
}
