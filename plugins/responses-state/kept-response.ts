/**
 * A kept response as the store holds it, and the Responses input items it is built from. Every
 * item stays in the Responses API's own wire shape: rebuilding a conversation is then the
 * client's own request with the earlier items in front, read by the format's own translator.
 */
import { randomBytes } from "node:crypto";
import { isObject, type WireObject } from "../../core/index.js";

export interface KeptResponse {
  /** The input items of the request that made this response, with ids (for input_items). */
  input: WireObject[];
  /** The whole conversation through this response: earlier turns, this input, this output. */
  conversation: unknown[];
  /** The response object as the client got it (for GET). */
  response: WireObject;
}

const itemId = (prefix: string): string => `${prefix}_${randomBytes(12).toString("hex")}`;

/** A request's `input` as a list of items: a string is one user message. */
export function inputItems(input: unknown): unknown[] {
  if (typeof input === "string") return [{ role: "user", content: input }];
  return Array.isArray(input) ? input : [];
}

/** The input items as `input_items` lists them: messages typed and their text as parts, every item with an id. */
export function listedItems(items: unknown[]): WireObject[] {
  return items.filter(isObject).map((item) => {
    const listed: WireObject = { ...item };
    if (listed.type === undefined && typeof listed.role === "string") listed.type = "message";
    if (listed.type === "message" && typeof listed.content === "string") {
      listed.content = [{ type: listed.role === "assistant" ? "output_text" : "input_text", text: listed.content }];
    }
    if (typeof listed.id !== "string") listed.id = itemId(listed.type === "message" ? "msg" : "item");
    return listed;
  });
}

/** The store key of a response: tenants never see each other's. */
export function keyOf(tenant: string | undefined, id: string): string {
  return `responses-state:${encodeURIComponent(tenant ?? "")}:${id}`;
}

export function parseKept(text: string | undefined): KeptResponse | undefined {
  if (text === undefined) return undefined;
  const value: unknown = JSON.parse(text);
  return isObject(value) && Array.isArray(value.conversation) && Array.isArray(value.input) && isObject(value.response) ? (value as unknown as KeptResponse) : undefined;
}
