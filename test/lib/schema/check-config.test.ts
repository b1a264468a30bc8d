import { describe, expect, it } from "vitest";
import { checkConfig } from "../../../lib/schema/check-config.js";
import openaiSchema from "../../../plugins/provider-openai/config.schema.json" with { type: "json" };
import httpSchema from "../../../plugins/provider-http/config.schema.json" with { type: "json" };

describe("checkConfig with the shared upstream fields", () => {
  it("checks a provider's $ref'd pool and key fields and fills the defaults written beside each $ref", () => {
    const checked = checkConfig(openaiSchema, { baseUrl: "http://localhost:1/v1", apiKeys: ["a", "b"] });
    expect(checked).toMatchObject({
      ok: true,
      value: { connectTimeoutMs: 10_000, keepAliveTimeoutMs: 4_000, keepAliveMaxTimeoutMs: 600_000, keyRateLimitCooldownMs: 60_000, keyAuthCooldownMs: 600_000 },
    });
  });

  it("reports a bad shared field at its pointer, with the bounds of the shared definition", () => {
    expect(checkConfig(httpSchema, { baseUrl: "http://localhost:1", connections: 0 })).toEqual({ ok: false, issues: [{ pointer: "/connections", message: "must be >= 1" }] });
    expect(checkConfig(openaiSchema, { baseUrl: "http://localhost:1/v1", apiKeys: [] })).toEqual({ ok: false, issues: [{ pointer: "/apiKeys", message: "must NOT have fewer than 1 items" }] });
  });
});
