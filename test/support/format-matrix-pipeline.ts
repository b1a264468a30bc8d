/**
 * The pipeline the format-matrix tests serve: all four client routes, and one backend per
 * upstream format, each serving one model, all pointed at the same formats upstream.
 */
import type { UpstreamFormat } from "./upstream-formats.js";

/** The model that selects each backend (the backend ids are the format names). */
export const MODEL_OF: Record<UpstreamFormat, string> = {
  "openai-chat": "gpt-4o-mini",
  "openai-responses": "gpt-4.1",
  "anthropic-messages": "claude-sonnet-4-5",
  gemini: "gemini-2.0-flash",
};

const ENV_NAME: Record<UpstreamFormat, string> = {
  "openai-chat": "MATRIX_CHAT_KEY",
  "openai-responses": "MATRIX_RESPONSES_KEY",
  "anthropic-messages": "MATRIX_ANTHROPIC_KEY",
  gemini: "MATRIX_GEMINI_KEY",
};

/** The backends' own upstream keys, and the header each provider sends its key in. */
export const BACKEND_KEYS = {
  env: Object.fromEntries(Object.entries(ENV_NAME).map(([format, name]) => [name, `sk-upstream-${format}-secret`])),
  header: { "openai-chat": "authorization", "openai-responses": "authorization", "anthropic-messages": "x-api-key", gemini: "x-goog-api-key" } as Record<UpstreamFormat, string>,
  value: (format: UpstreamFormat): string => (format.startsWith("openai") ? `Bearer sk-upstream-${format}-secret` : `sk-upstream-${format}-secret`),
};

/** One route per client API, each at its official path: what a gateway for all four SDKs serves. */
export const FOUR_FORMAT_ROUTES = [
  { method: "POST", path: "/v1/chat/completions", format: "openai-chat" },
  { method: "POST", path: "/v1/responses", format: "openai-responses" },
  { method: "POST", path: "/v1/messages", format: "anthropic-messages" },
  { method: "POST", path: "/v1beta/models/:target", format: "gemini" },
];

export function matrixPipeline(origin: string, extra: { routes?: unknown[] } = {}) {
  const key = (format: UpstreamFormat) => `\${env:${ENV_NAME[format]}}`;
  return {
    id: "matrix",
    routes: [...FOUR_FORMAT_ROUTES, ...(extra.routes ?? [])],
    backends: {
      "openai-chat": { use: "provider-openai", models: [MODEL_OF["openai-chat"]], config: { baseUrl: `${origin}/v1`, apiKey: key("openai-chat"), formats: ["openai-chat"] } },
      "openai-responses": { use: "provider-openai", models: [MODEL_OF["openai-responses"]], config: { baseUrl: `${origin}/v1`, apiKey: key("openai-responses"), formats: ["openai-responses"] } },
      "anthropic-messages": { use: "provider-anthropic", models: [MODEL_OF["anthropic-messages"]], config: { baseUrl: origin, apiKey: key("anthropic-messages") } },
      gemini: { use: "provider-gemini", models: [MODEL_OF.gemini], config: { baseUrl: origin, apiKey: key("gemini") } },
    },
    steps: [
      { use: "auth-api-key", config: { keysFile: "./keys.json" } },
      { use: "validate" },
      { use: "translate" },
      { use: "stream-sse" },
    ],
    // One attempt: the error tests want each upstream status as the client's answer, not a retry.
    attempts: { maxAttempts: 1 },
  };
}
