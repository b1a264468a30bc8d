import providerGemini from "../../../plugins/provider-gemini/index.js";
import { apiKeyRotationSuite } from "../../support/api-key-rotation.js";

apiKeyRotationSuite({
  plugin: providerGemini,
  config: (upstream) => ({ baseUrl: upstream.origin }),
  keyOf: (headers) => headers["x-goog-api-key"] as string | undefined,
  call: () => ({
    format: "gemini",
    model: "gemini-test",
    body: { contents: [{ role: "user", parts: [{ text: "hello" }] }] },
    stream: false,
    signal: new AbortController().signal,
    requestId: "req-keys",
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
  }),
});
