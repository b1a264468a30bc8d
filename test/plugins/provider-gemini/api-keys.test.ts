import providerGemini from "../../../plugins/provider-gemini/index.js";
import { apiKeyRotationSuite } from "../../support/api-key-rotation.js";
import { RequestEnd } from "../../../core/index.js";

apiKeyRotationSuite({
  plugin: providerGemini,
  config: (upstream) => ({ baseUrl: upstream.origin }),
  keyOf: (headers) => headers["x-goog-api-key"] as string | undefined,
  call: () => ({
    format: "gemini",
    model: "gemini-test",
    body: { contents: [{ role: "user", parts: [{ text: "hello" }] }] },
    stream: false,
    end: new RequestEnd(),
    requestId: "req-keys",
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
  }),
});
