/**
 * Whether a route's requests generate output, for the steps that reserve before an answer exists
 * (ratelimit's tokens, budget's cost). Vectors and token counts generate nothing, so reserving a
 * default output allowance for them would refuse small embeddings under any token limit below it.
 * Everything else does generate: `generate` itself, and WebSocket model sessions (realtime), whose
 * responses are metered as they come.
 */
import type { Exchange } from "../../core/index.js";

const NOTHING_GENERATED = new Set(["embeddings", "count-tokens"]);

export const generatesOutput = (exchange: Exchange): boolean => !NOTHING_GENERATED.has(exchange.route.endpoint);
