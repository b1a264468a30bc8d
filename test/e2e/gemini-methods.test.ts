/**
 * A Gemini client on a Gemini backend is passed through byte for byte: the gateway must still
 * refuse paths that are not a generate call (`:countTokens`, `:embedContent`, a bare model), in
 * Google's error shape, before any upstream call, or they go upstream as a billed generateContent.
 * The translated path (a Gemini client on an OpenAI backend) answers the same.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type HttpUpstream } from "../support/http-upstream.js";

describe("Gemini routes serve generateContent and streamGenerateContent only", () => {
  let upstream: HttpUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    // Any call reaching it is a failure of the test: it answers 500 so that nothing passes by luck.
    upstream = await startUpstream((req, res) => {
      req.resume();
      res.statusCode = 500;
      res.end();
    });
    gw = await startGateway({
      "gemini.pipeline.json": {
        id: "gemini",
        routes: [{ method: "POST", path: "/v1beta/models/:target", format: "gemini" }],
        backends: {
          google: { use: "provider-gemini", models: ["gemini-*"], config: { baseUrl: upstream.url, apiKey: "gemini-upstream-key" } },
          openai: { use: "provider-openai", models: ["gpt-*"], config: { baseUrl: `${upstream.url}/v1`, apiKey: "openai-upstream-key" } },
        },
        steps: [{ use: "translate" }],
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  for (const model of ["gemini-2.0-flash", "gpt-4o"]) {
    const path = model.startsWith("gemini") ? "passed through" : "translated";
    for (const [target, status, googleStatus] of [
      [`${model}:countTokens`, 404, "NOT_FOUND"],
      [`${model}:embedContent`, 404, "NOT_FOUND"],
      [model, 404, "NOT_FOUND"],
    ] as const) {
      it(`${path}: POST ${target} is ${status} ${googleStatus}, and nothing goes upstream`, async () => {
        const before = upstream.seen.length;
        const res = await fetch(`${gw.url}/v1beta/models/${target}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] }),
        });
        expect(res.status).toBe(status);
        const body = (await res.json()) as { error: { code: number; status: string; message: string } };
        expect(body.error).toMatchObject({ code: status, status: googleStatus });
        expect(body.error.message).toMatch(/generateContent/);
        expect(upstream.seen.length).toBe(before);
      });
    }
  }
});
