import providerAnthropic from "../../../plugins/provider-anthropic/index.js";
import { apiKeyRotationSuite } from "../../support/api-key-rotation.js";

apiKeyRotationSuite({
  plugin: providerAnthropic,
  config: (upstream) => ({ baseUrl: upstream.origin }),
  keyOf: (headers) => headers["x-api-key"] as string | undefined,
  call: () => ({
    format: "anthropic-messages",
    model: "claude-test",
    body: { model: "claude-test", max_tokens: 64, messages: [{ role: "user", content: "hello" }] },
    stream: false,
    signal: new AbortController().signal,
    requestId: "req-keys",
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
  }),
});
