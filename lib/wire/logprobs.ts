/**
 * Token log probabilities between OpenAI's shape (Chat Completions `logprobs.content`, Responses
 * `output_text.logprobs`: token, logprob, bytes, top_logprobs) and Gemini's (`logprobsResult`:
 * chosenCandidates and topCandidates, step by step), through the IR's list of tokens.
 */
import { isObject, type IrTokenLogprob, type WireObject } from "../../core/index.js";

function alternative(raw: unknown): { token: string; logprob: number } | undefined {
  if (!isObject(raw) || typeof raw.token !== "string" || typeof raw.logprob !== "number") return undefined;
  return { token: raw.token, logprob: raw.logprob };
}

/** OpenAI's token entries as IR; entries that are not token objects are skipped. */
export function openAiLogprobsToIr(list: unknown): IrTokenLogprob[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((raw): IrTokenLogprob[] => {
    const chosen = alternative(raw);
    if (chosen === undefined) return [];
    const top = Array.isArray((raw as WireObject).top_logprobs) ? ((raw as WireObject).top_logprobs as unknown[]).flatMap((t) => alternative(t) ?? []) : [];
    return [top.length === 0 ? chosen : { ...chosen, top }];
  });
}

const bytesOf = (token: string): number[] => [...Buffer.from(token, "utf8")];

export function openAiLogprobsFromIr(list: readonly IrTokenLogprob[]): WireObject[] {
  return list.map((t) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: bytesOf(t.token),
    top_logprobs: (t.top ?? []).map((a) => ({ token: a.token, logprob: a.logprob, bytes: bytesOf(a.token) })),
  }));
}

function candidate(raw: unknown): { token: string; logprob: number } | undefined {
  if (!isObject(raw) || typeof raw.token !== "string") return undefined;
  const logprob = raw.logProbability ?? raw.log_probability;
  return typeof logprob === "number" ? { token: raw.token, logprob } : undefined;
}

/** Gemini's `logprobsResult` as IR: one entry per decoding step, its top candidates beside it. */
export function geminiLogprobsToIr(result: unknown): IrTokenLogprob[] {
  if (!isObject(result)) return [];
  const chosen = result.chosenCandidates ?? result.chosen_candidates;
  const top = result.topCandidates ?? result.top_candidates;
  if (!Array.isArray(chosen)) return [];
  return chosen.flatMap((raw, i): IrTokenLogprob[] => {
    const token = candidate(raw);
    if (token === undefined) return [];
    const step = Array.isArray(top) && isObject(top[i]) && Array.isArray(top[i].candidates) ? (top[i].candidates as unknown[]).flatMap((c) => candidate(c) ?? []) : [];
    return [step.length === 0 ? token : { ...token, top: step }];
  });
}

export function geminiLogprobsFromIr(list: readonly IrTokenLogprob[]): WireObject {
  return {
    topCandidates: list.map((t) => ({ candidates: (t.top ?? []).map((a) => ({ token: a.token, logProbability: a.logprob })) })),
    chosenCandidates: list.map((t) => ({ token: t.token, logProbability: t.logprob })),
  };
}
