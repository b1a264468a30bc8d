/**
 * The dry-run question between `switchyard explain` (and `POST /admin/explain`) and the steps
 * whose taps change state when they run: rate limits and budgets reserve, round-robin and weighted
 * selectors advance their rotation, the bandit admits contexts. Before running such a step's tap
 * for a request it only explains, the explainer asks the step by its id; a step that answers says
 * what it would do (refuse, reserve, reorder) without doing it, and its real tap is not run. A
 * step that does not answer has nothing to hide: its tap runs as for a real request.
 */
import type { AsyncSeriesBailHook } from "tapable";
import type { Answer, Attempt, Exchange, PipelineHooks } from "../../core/index.js";

/** The phases a dry run walks through taps (the ones before anything is sent). */
export type DryRunPhase = "auth" | "validate" | "plan";

export interface DryRunQuestion {
  /** The step asked: only the step with this id answers. */
  readonly step: string;
  readonly phase: DryRunPhase;
  /** In the plan phase: the plan as the steps before this one left it. */
  readonly plan?: readonly Attempt[];
}

/** Something a request would take from a limit or a budget, had it been sent. */
export interface WouldReserve {
  /** The rule or budget, as the pipeline file names it (`tenant-rpm`, `0`…). */
  readonly rule: string;
  /** Whose counter it is: `tenant acme`, `key k1`, `global`, `header x-user (hashed)`… */
  readonly subject: string;
  readonly unit: "requests" | "tokens" | "concurrent" | "usd";
  readonly amount: number;
  readonly limit: number;
  /** Used (or reserved) so far in the current window or period, when the store could say. */
  readonly used?: number;
  /** The window or period (`1m`, `day`…). */
  readonly per?: string;
  /** False when this reservation is the one that would refuse the request. */
  readonly fits: boolean;
}

export interface DryRunAnswer {
  /** What the step would do, in sentences for people. */
  readonly says: readonly string[];
  /** The refusal it would answer the request with (auth, validate). */
  readonly refusal?: Answer;
  /** The plan it would return (plan). */
  readonly plan?: Attempt[];
  readonly reserves?: readonly WouldReserve[];
  /** Numbers for tools (`--json`): a selector's weights, a bandit's arms… */
  readonly detail?: Readonly<Record<string, unknown>>;
}

function dryRunQueries(hooks: PipelineHooks): AsyncSeriesBailHook<[DryRunQuestion, Exchange], DryRunAnswer | undefined> {
  return hooks.query.for("dry-run") as unknown as AsyncSeriesBailHook<[DryRunQuestion, Exchange], DryRunAnswer | undefined>;
}

/** For the explainer: what step `question.step` would do in its phase, or undefined when it has no dry run (its tap is safe to run). */
export function askDryRun(hooks: PipelineHooks, question: DryRunQuestion, exchange: Exchange): Promise<DryRunAnswer | undefined> {
  return dryRunQueries(hooks).promise(question, exchange);
}

/** For a step with side effects: answers the dry-run questions asked of step `stepId` (its `env.id`). */
export function answerDryRun(hooks: PipelineHooks, stepId: string, answer: (question: DryRunQuestion, exchange: Exchange) => DryRunAnswer | undefined | Promise<DryRunAnswer | undefined>): void {
  dryRunQueries(hooks).tapPromise(stepId, async (question, exchange) => (question.step === stepId ? answer(question, exchange) : undefined));
}
