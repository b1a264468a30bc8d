/**
 * The probe loop of one backend: GET the health path through the backend's own provider, count
 * passes and failures in a row, flip between up and down at the configured thresholds. One
 * timer per backend, re-armed after each probe ends, so probes of a slow backend never overlap;
 * timers are unref'd so they never keep the process alive.
 */
import type { Backend, ForwardCall, Logger } from "../../core/index.js";
import { endOfSignal } from "../../lib/upstream/end-of-signal.js";

export interface ProbeRules {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  unhealthyAfter: number;
  healthyAfter: number;
  headers: Record<string, string>;
  passes(status: number): boolean;
}

/** Bytes of a probe's reply read before it is cut: health bodies are small, and unread anyway. */
const BODY_LIMIT = 64 * 1024;

export class Prober {
  /** Read by the plan tap on every request. */
  healthy = true;
  private failures = 0;
  private passes = 0;
  private probes = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly stop = new AbortController();

  constructor(
    private readonly backend: Backend,
    private readonly rules: ProbeRules,
    private readonly log: Logger,
    private readonly plugin: string,
    private readonly pipelineId: string,
  ) {}

  start(): void {
    this.arm(0);
  }

  /** Stops the timer and aborts a probe under way; resolves once it has let go. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stop.abort();
    await this.running;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.probe().finally(() => {
        this.running = undefined;
        this.arm(this.rules.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    const { rules } = this;
    const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(rules.timeoutMs)]);
    const call: ForwardCall = {
      method: "GET",
      path: rules.path,
      headers: { ...rules.headers, "user-agent": "switchyard-health-active" },
      body: undefined,
      end: endOfSignal(signal),
      headersTimeoutMs: rules.timeoutMs,
      bodyTimeoutMs: rules.timeoutMs,
      requestId: `${this.pipelineId}-${this.plugin}-${this.backend.id}-${++this.probes}`,
    };
    let status: number | undefined;
    let reason: string | undefined;
    try {
      const reply = await this.backend.provider.forward!(call);
      status = reply.status;
      // The body must end for the socket to go back to the pool; its timeout is the probe's.
      let size = 0;
      for await (const chunk of reply.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > BODY_LIMIT) break;
      }
      reply.body.destroy();
    } catch (err) {
      reason = (err as { code?: string } | undefined)?.code ?? "error";
    }
    if (this.stopped) return;
    if (status !== undefined && rules.passes(status)) this.passed();
    else this.failed(status, reason);
  }

  private passed(): void {
    this.failures = 0;
    this.passes++;
    if (!this.healthy && this.passes >= this.rules.healthyAfter) {
      this.healthy = true;
      this.log.info({ backend: this.backend.id }, `${this.plugin}: backend passed ${this.passes} probes, back in rotation`);
    }
  }

  private failed(status: number | undefined, reason: string | undefined): void {
    this.passes = 0;
    this.failures++;
    if (this.healthy && this.failures >= this.rules.unhealthyAfter) {
      this.healthy = false;
      this.log.warn({ backend: this.backend.id, status, reason, path: this.rules.path }, `${this.plugin}: backend failed ${this.failures} probes, taken out of rotation`);
    }
  }
}
