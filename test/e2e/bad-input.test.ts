import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_KEY, startDefaultPipeline } from "../support/default-pipeline.js";

/** Every bad input gets a clear 4xx in OpenAI's error shape, and the gateway keeps serving. */
describe("bad input on the default pipeline", () => {
  let gw: Awaited<ReturnType<typeof startDefaultPipeline>>;
  const auth = { authorization: `Bearer ${DEMO_KEY}`, "content-type": "application/json" };
  const good = JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "hi" }] });

  beforeAll(async () => {
    gw = await startDefaultPipeline((p) => {
      p.limits = { maxBodyBytes: 64 * 1024 };
    });
  });
  afterAll(() => gw?.close());

  async function post(path: string, body: string | Buffer, headers: Record<string, string> = auth) {
    const res = await request(`${gw.url}${path}`, { method: "POST", headers, body });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, json: JSON.parse(text) };
  }

  function expectOpenAiError(json: any, type: string, code?: string) {
    expect(json).toEqual({ error: expect.objectContaining({ message: expect.any(String), type }) });
    if (code) expect(json.error.code).toBe(code);
  }

  it("answers invalid JSON with a 400 invalid_request_error", async () => {
    const r = await post("/v1/chat/completions", "{not json");
    expect(r.status).toBe(400);
    expectOpenAiError(r.json, "invalid_request_error", "invalid_json");
  });

  it("answers a body that is not an object with a 400", async () => {
    const r = await post("/v1/chat/completions", "[1,2]");
    expect(r.status).toBe(400);
    expectOpenAiError(r.json, "invalid_request_error");
  });

  it("answers a wrongly typed field with a 400 naming it", async () => {
    const r = await post("/v1/chat/completions", JSON.stringify({ model: "mock-small", temperature: "hot", messages: [{ role: "user", content: "hi" }] }));
    expect(r.status).toBe(400);
    expectOpenAiError(r.json, "invalid_request_error");
    expect(r.json.error.param).toBe("temperature");
  });

  it("answers an oversize body with a 413 without reading it all", async () => {
    const big = JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "x".repeat(200 * 1024) }] });
    const r = await post("/v1/chat/completions", big);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe("body_too_large");
  });

  it("answers an unknown route with a 404 in OpenAI's shape", async () => {
    const r = await post("/v1/chat/completion", good);
    expect(r.status).toBe(404);
    expectOpenAiError(r.json, "not_found_error", "unknown_route");
    expect(r.headers["x-switchyard-request-id"]).toBeTruthy();
  });

  it("routes a path as the router always did: a query, a trailing slash or another case still reach the route; a wrong method does not", async () => {
    for (const path of ["/v1/chat/completions", "/v1/chat/completions?trace=1", "/v1/chat/completions/", "/V1/Chat/Completions"]) {
      const r = await post(path, good);
      expect(r.status, path).toBe(200);
      expect(r.json.object).toBe("chat.completion");
    }
    const get = await request(`${gw.url}/v1/chat/completions`, { method: "GET", headers: auth });
    expect(get.statusCode).toBe(404);
    await get.body.text();
  });

  it("answers an unknown model with a 404 model_not_found", async () => {
    const r = await post("/v1/chat/completions", JSON.stringify({ model: "gpt-nope", messages: [{ role: "user", content: "hi" }] }));
    expect(r.status).toBe(404);
    expectOpenAiError(r.json, "not_found_error", "model_not_found");
    expect(r.json.error.param).toBe("model");
  });

  it("answers a missing key and a wrong key with 401s that do not echo the key", async () => {
    const missing = await post("/v1/chat/completions", good, { "content-type": "application/json" });
    expect(missing.status).toBe(401);
    expectOpenAiError(missing.json, "authentication_error", "missing_api_key");
    const wrong = await post("/v1/chat/completions", good, { ...auth, authorization: "Bearer sk-wrong-key-123456" });
    expect(wrong.status).toBe(401);
    expectOpenAiError(wrong.json, "authentication_error", "invalid_api_key");
    expect(JSON.stringify(wrong.json)).not.toContain("sk-wrong-key-123456");
  });

  it("keeps serving after all of the above", async () => {
    const r = await post("/v1/chat/completions", good);
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toContain("mock provider");
  });
});
