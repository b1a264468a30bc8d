import { describe, expect, it } from "vitest";
import { attributeRequest, mirroredCapabilities } from "../../../lib/mcp/server-requests.js";
import type { SessionPeer } from "../../../lib/mcp/upstream.js";

const peer = (sessionId: string, calls: number): SessionPeer => ({
  sessionId,
  clientCapabilities: () => ({}),
  notify: () => undefined,
  callsRunning: () => calls,
  request: async () => ({}),
});

describe("attributeRequest: the session a shared server's request belongs to", () => {
  it("is the one session with calls running on the server, however many others use it", () => {
    const running = peer("b", 2);
    expect(attributeRequest([peer("a", 0), running, peer("c", 0)])).toBe(running);
  });

  it("is the only session using the server when no call runs", () => {
    const only = peer("a", 0);
    expect(attributeRequest([only])).toBe(only);
  });

  it("cannot be told when two sessions have calls running, or none does and several use the server, or none uses it", () => {
    expect(attributeRequest([peer("a", 1), peer("b", 1)])).toMatch(/2 client sessions have calls running/);
    expect(attributeRequest([peer("a", 0), peer("b", 0)])).toMatch(/no call is running on this server and 2 client sessions use it/);
    expect(attributeRequest([])).toMatch(/no client session/);
  });
});

describe("mirroredCapabilities: what an upstream session of one client declares", () => {
  it("keeps the client's sampling, elicitation and roots, as declared, and nothing else", () => {
    expect(mirroredCapabilities({ sampling: {}, roots: { listChanged: true }, experimental: { x: {} } })).toEqual({ sampling: {}, roots: { listChanged: true } });
    expect(mirroredCapabilities({})).toEqual({});
  });
});
