/**
 * The formats validate knows, by the key routes use. Adding one is a schema and a rules file
 * beside openai-chat's, and one line here; formats not listed pass unvalidated (or are refused,
 * with `requireKnownFormat`).
 */
import { createOpenAiChatCheck } from "./openai-chat.js";
import type { RequestCheck } from "./wire-schema.js";

/** Limits from the step's config that format rules apply. */
export interface ValidationLimits {
  /** Most choices (`n`) a request may ask for. */
  maxN: number;
}

export const checkBuilders: Readonly<Record<string, (limits: ValidationLimits) => RequestCheck>> = {
  "openai-chat": createOpenAiChatCheck,
};
