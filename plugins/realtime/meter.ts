/**
 * Usage of a realtime session, counted while it runs. Each response the backend generates is a
 * request of its own to the pipeline's steps: when it starts, the validate phase runs for it
 * (rate limits and budgets reserve, and may refuse: the session then gets an error event and a
 * close); when its usage arrives, the usage phase prices it (cost), settle books the real amount,
 * and it is recorded. The session's own exchange carries the sums for its record.
 *
 * Work for one session runs in order on one chain (a response's usage may arrive before the
 * store answered its reservation); the session ends only after the chain is done, so a drain
 * waits for every response record.
 */
import { randomUUID } from "node:crypto";
import { GatewayError, type Answer, type Exchange, type IrUsage, type PipelineHooks, type RequestRecord } from "../../core/index.js";
import type { SessionRelay } from "../../lib/websocket/relay.js";

const PLUGIN = "realtime";

export interface SessionUsage {
  responses: number;
  usage: IrUsage;
  /** USD; null when any response's price is unknown. */
  costUsd: number | null;
}

export class SessionMeter {
  private chain: Promise<void> = Promise.resolve();
  /** The response being generated, from its start to its usage. */
  private current: Exchange | undefined;
  private refused = false;
  readonly totals: SessionUsage = { responses: 0, usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0 };

  /** `refuse` renders a refusal in the session's protocol; the relay closes the session after it. */
  constructor(
    private readonly session: Exchange,
    private readonly hooks: PipelineHooks,
    private readonly relay: () => SessionRelay | undefined,
    private readonly refuse: (err: GatewayError) => string,
  ) {}

  /** A response began (OpenAI response.created, a Gemini turn's first content): its limits are checked now. */
  started(responseId?: string): void {
    if (this.current !== undefined || this.refused) return;
    const child = this.childExchange(responseId);
    this.current = child;
    this.then(async () => {
      const answer = await this.hooks.validate.promise(child);
      if (answer) this.refuseSession(child, answer);
    });
  }

  /** A response's usage arrived (OpenAI response.done, Gemini usageMetadata): priced, settled and recorded. */
  finished(usage: IrUsage, responseId?: string): void {
    if (this.current === undefined) this.started(responseId);
    const child = this.current!;
    this.current = undefined;
    this.then(async () => {
      child.usage = usage;
      child.status = 200;
      this.hooks.usage.call(child);
      this.add(usage, child.costUsd);
      await this.hooks.settle.promise(child).catch((err: unknown) => child.notes.push(`settle failed: ${String(err)}`));
      await this.hooks.record.promise(this.recordOf(child, responseId), child).catch(() => undefined);
    });
  }

  /** The session is over: a response still open (cancelled, cut) gives its reservations back; resolves once all work is done. */
  async ended(): Promise<SessionUsage> {
    const open = this.current;
    this.current = undefined;
    if (open !== undefined) this.then(() => this.hooks.settle.promise(open).catch(() => undefined));
    await this.chain;
    return this.totals;
  }

  private then(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err: unknown) => {
      this.session.notes.push(`${PLUGIN}: metering failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private refuseSession(child: Exchange, answer: Answer): void {
    this.refused = true;
    const err = answer instanceof GatewayError ? answer : new GatewayError({ status: answer.status, type: "invalid_request", code: "refused", message: `refused with ${answer.status}` });
    child.error = err;
    this.session.error = err;
    const relay = this.relay();
    relay?.sendToClient(this.refuse(err));
    // 1008: policy violation, the reason being a limit or a budget; the code says which.
    relay?.close(1008, err.code, "gateway");
  }

  private add(usage: IrUsage, cost: number | null | undefined): void {
    const sum = this.totals.usage;
    this.totals.responses++;
    sum.inputTokens += usage.inputTokens;
    sum.outputTokens += usage.outputTokens;
    for (const key of ["cachedReadTokens", "cacheWriteTokens", "reasoningTokens"] as const) {
      if (usage[key] !== undefined) sum[key] = (sum[key] ?? 0) + usage[key]!;
    }
    if (this.totals.costUsd !== null) this.totals.costUsd = typeof cost === "number" ? Math.round((this.totals.costUsd + cost) * 1e9) / 1e9 : null;
  }

  /** A response as the steps see a request: the session's caller, route and model, its own id, times and usage. */
  private childExchange(responseId: string | undefined): Exchange {
    const s = this.session;
    return {
      ...s, id: randomUUID(), startedAt: Date.now(), startedHr: performance.now(), body: {}, received: undefined, stream: true,
      responseHeaders: {}, headersSent: true, attempts: [], notes: [], usage: undefined, costUsd: undefined, status: undefined, error: undefined,
      session: { of: s.id, ...(responseId === undefined ? {} : { response: responseId }) },
    };
  }

  private recordOf(child: Exchange, responseId: string | undefined): RequestRecord {
    const s = this.session;
    const record: RequestRecord = {
      id: child.id, time: new Date(child.startedAt).toISOString(), pipeline: s.pipelineId, route: s.route.path, format: s.route.format, stream: true,
      status: 200, latencyMs: Math.round((performance.now() - child.startedHr) * 100) / 100, costUsd: child.costUsd ?? null, attempts: [],
      session: { of: s.id, ...(responseId === undefined ? {} : { response: responseId }) },
    };
    const optional: Partial<RequestRecord> = {
      tenant: s.tenant, keyId: s.keyId, clientRequestId: s.clientRequestId, backend: s.backend, model: s.model, upstreamModel: s.upstreamModel, usage: child.usage,
      notes: child.notes.length > 0 ? [...child.notes] : undefined,
    };
    for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(record, { [key]: value });
    return record;
  }
}
