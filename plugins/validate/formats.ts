/**
 * The formats validate knows, by the key routes use. Adding one is a schema and a rules file
 * beside openai-chat's, and one line here; formats not listed pass unvalidated (or are refused,
 * with `requireKnownFormat`).
 */
import { createOpenAiChatCheck } from "./openai-chat.js";
import type { RequestCheck, ValidationLimits } from "./wire-schema.js";

export const checkBuilders: Readonly<Record<string, (limits: ValidationLimits) => RequestCheck>> = {
  "openai-chat": createOpenAiChatCheck,
};
