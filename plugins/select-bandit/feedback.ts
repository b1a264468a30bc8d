/**
 * The feedback endpoint: `{ request_id, score | value, label? }` for a request this bandit routed
 * (its id is the client's `x-switchyard-request-id`). The request's note (tenant, arm, contexts),
 * kept when it settled, says which arm to credit; only the tenant that made the request may score
 * it, and only once. The feedback goes onto the feedback call's own record as a note.
 */
import { GatewayError, type Answer, type Exchange, type StateStore } from "../../core/index.js";
import type { ArmStats } from "./arm-stats.js";
import { feedbackReward, type RewardBlend } from "./reward.js";

export const PLUGIN = "select-bandit";

/** What the bandit keeps about a finished request so feedback can find its arm. */
export interface ServedNote {
  tenant: string | null;
  arm: string;
  backend: string;
  contexts: string[];
}

const MAX_LABEL = 200;

function badField(param: string, message: string): GatewayError {
  return new GatewayError({ status: 400, type: "invalid_request", code: "invalid_feedback", param, message, source: PLUGIN });
}

/** The body as feedback, or the 400 naming the first field that is wrong. */
export function parseFeedback(body: Record<string, unknown>): { requestId: string; given: { score: number } | { value: number }; label?: string } | GatewayError {
  const requestId = body.request_id;
  if (typeof requestId !== "string" || requestId.length === 0 || requestId.length > 200) return badField("request_id", "request_id must be the x-switchyard-request-id of a finished request");
  const { score, value, label } = body;
  if (score !== undefined && value !== undefined) return badField("score", "send either score or value, not both");
  if (label !== undefined && (typeof label !== "string" || label.length > MAX_LABEL)) return badField("label", `label must be a string of at most ${MAX_LABEL} characters`);
  const labelled = label === undefined ? {} : { label };
  if (score !== undefined) {
    if (typeof score !== "number" || !(score >= 0 && score <= 1)) return badField("score", "score must be a number from 0 to 1");
    return { requestId, given: { score }, ...labelled };
  }
  if (value !== undefined) {
    if (typeof value !== "number" || !Number.isFinite(value)) return badField("value", "value must be a finite number");
    return { requestId, given: { value }, ...labelled };
  }
  return badField("score", "feedback needs a score (0 to 1) or a value");
}

export async function answerFeedback(x: Exchange, store: StateStore, stats: ArmStats, blend: RewardBlend, prefix: string, ttlMs: number): Promise<Answer> {
  const parsed = parseFeedback(x.body);
  if (parsed instanceof GatewayError) return parsed;
  const raw = await store.get(`${prefix}req:${parsed.requestId}`);
  const note = raw === undefined ? undefined : (JSON.parse(raw) as ServedNote);
  // Another tenant's request answers exactly like an unknown one: its existence is not theirs to learn.
  if (note === undefined || note.tenant !== (x.tenant ?? null)) {
    return new GatewayError({ status: 404, type: "not_found", code: "request_not_found", param: "request_id", message: "no finished request with this id that feedback can be given for", source: PLUGIN });
  }
  const once = await store.reserve(`${prefix}fb:${parsed.requestId}`, 1, 1, ttlMs);
  if (!once.allowed) {
    return new GatewayError({ status: 409, type: "invalid_request", code: "feedback_already_given", param: "request_id", message: "feedback for this request was already given", source: PLUGIN });
  }
  const reward = feedbackReward(blend, parsed.given);
  if (blend.feedbackShare > 0) {
    await Promise.all(note.contexts.map((context) => stats.observe(context, note.arm, blend.feedbackShare, reward, false)));
  }
  const given = "score" in parsed.given ? `score=${parsed.given.score}` : `value=${parsed.given.value}`;
  x.notes.push(`feedback for ${parsed.requestId}: ${given}${parsed.label === undefined ? "" : ` label=${JSON.stringify(parsed.label)}`} -> reward ${reward.toFixed(3)} for ${note.backend}`);
  return { status: 200, body: { request_id: parsed.requestId, backend: note.backend, reward, applied: blend.feedbackShare > 0 } };
}
