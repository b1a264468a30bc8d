/**
 * What both realtime protocols share: the model resolved through the pipeline (auth runs again
 * once it is known, so a key's model allow-list applies; then the plan orders the backends that
 * serve it), and the session's sums put on its exchange for its record.
 */
import { GatewayError, type Answer, type Attempt, type EndpointIo, type Exchange, type PipelineHooks } from "../../core/index.js";
import type { SessionMeter } from "./meter.js";

export const PLUGIN = "realtime";

export interface RealtimeSettings {
  idleTimeoutMs: number;
  maxMessageBytes: number;
  setupTimeoutMs: number;
}

/** A model name is kept, recorded and may become part of a backend's URL: bounded, printable, no dot segment. */
const MODEL_NAME = /^(?=[^\x00-\x1f\x7f]{1,256}$)(?!(.*\/)?\.\.?(\/|$))/;

/** The planned attempts for `model`, or the Answer refusing it (auth's, once it sees the model). */
export async function resolveModel(x: Exchange, io: EndpointIo, hooks: PipelineHooks, model: string): Promise<Attempt[] | Answer> {
  if (!MODEL_NAME.test(model)) throw GatewayError.invalidRequest("model must be 1 to 256 printable characters with no . or .. segment", "model", "invalid_model");
  x.model = model;
  const denied = await hooks.auth.promise(x);
  if (denied) return denied;
  const candidates = io.pipeline.models.attemptsFor(model);
  if (candidates.length === 0) throw GatewayError.modelNotFound(model);
  return hooks.plan.promise(candidates, x);
}

/**
 * The session's usage and cost go under `session`; its own are 0, since each response was
 * counted on its own record and settled against the limits already (counting them again on the
 * session would charge every token twice).
 */
export async function finishSession(x: Exchange, meter: SessionMeter): Promise<void> {
  const totals = await meter.ended();
  if (x.session === undefined) return;
  x.session = { ...x.session, responses: totals.responses, usage: totals.usage, costUsd: totals.costUsd };
  x.usage = { inputTokens: 0, outputTokens: 0 };
  x.costUsd = 0;
}
