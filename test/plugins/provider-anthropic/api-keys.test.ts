import providerAnthropic from "../../../plugins/provider-anthropic/index.js";
import { apiKeyRotationSuite } from "../../support/api-key-rotation.js";
import { RequestEnd } from "../../../core/index.js";

apiKeyRotationSuite({
  plugin: providerAnthropic,
  config: (upstream) => ({ baseUrl: upstream.origin }),
  keyOf: (headers) => headers["x-api-key"] as string | undefined,
  call: () => ({
    format: "anthropic-messages",
    model: "claude-test",
    body: { model: "claude-test", max_tokens: 64, messages: [{ role: "user", content: "hello" }] },
    stream: false,
    end: new RequestEnd(),
    requestId: "req-keys",
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
  }),
});
