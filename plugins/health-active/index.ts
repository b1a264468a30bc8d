/**
 * health-active: active health checks. Each backend whose provider can forward (provider-http)
 * is probed on a timer of its own from the moment the pipeline starts (see prober.ts); the plan
 * then drops down backends (or, without drop, puts them behind the healthy ones). The request
 * path pays only a scan of a few booleans.
 *
 * Backends that cannot be probed (no forward) are always counted healthy. When no planned
 * backend is healthy the plan is left alone, as health-breaker does: the request is still tried
 * and the client gets the backends' real answers rather than one made up here.
 */
import { definePlugin, GatewayError, type Attempt } from "../../core/index.js";
import { answerBackendStates, stateOf } from "../../lib/health/report.js";
import type { HealthActiveConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { Prober, type ProbeRules } from "./prober.js";

const PLUGIN = "health-active";

type StatusRule = NonNullable<HealthActiveConfig["expectStatus"]>[number];

export default definePlugin<HealthActiveConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Active health checks: probes each http backend's health path on a timer; down backends go to the end of the plan.",
  configSchema,
  create(config, env) {
    const rules: ProbeRules = {
      path: config.path ?? "/",
      intervalMs: config.intervalMs ?? 5_000,
      timeoutMs: config.timeoutMs ?? 2_000,
      unhealthyAfter: config.unhealthyAfter ?? 3,
      healthyAfter: config.healthyAfter ?? 2,
      headers: Object.fromEntries(Object.entries(config.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value])),
      passes: statusMatcher(config.expectStatus ?? ["2xx", "3xx"]),
    };
    const drop = config.drop ?? true;
    const probers = new Map<string, Prober>();
    for (const backend of env.backends.values()) {
      if (backend.provider.forward !== undefined) probers.set(backend.id, new Prober(backend, rules, env.log, PLUGIN, env.pipelineId));
    }
    if (probers.size === 0) {
      throw new GatewayError({
        status: 500, type: "internal", code: "invalid_config", source: PLUGIN,
        message: `${PLUGIN}: no backend of this pipeline can be probed; active checks need providers that forward requests (provider-http)`,
      });
    }
    for (const prober of probers.values()) prober.start();
    // Reused by every plan: the tap is synchronous, so no two plans share it at once.
    const healthy: boolean[] = [];

    return {
      apply(hooks) {
        answerBackendStates(hooks, PLUGIN, (states) => {
          for (const [backend, prober] of probers) stateOf(states, backend).probe = { healthy: prober.healthy };
        });
        hooks.plan.tap(PLUGIN, (attempts) => {
          let kept = 0;
          for (let i = 0; i < attempts.length; i++) {
            healthy[i] = probers.get(attempts[i]!.backend.id)?.healthy ?? true;
            if (healthy[i]) kept++;
          }
          if (kept === attempts.length || kept === 0) return attempts;
          return healthyFirst(attempts, healthy, drop ? kept : attempts.length);
        });
      },
      async close() {
        await Promise.all([...probers.values()].map((p) => p.close()));
      },
    };
  },
});

/** The expectStatus list as one check. */
function statusMatcher(rules: readonly StatusRule[]): (status: number) => boolean {
  const passing = new Uint8Array(600);
  for (const rule of rules) {
    if (typeof rule === "number") passing[rule] = 1;
    else passing.fill(1, Number(rule[0]) * 100, Number(rule[0]) * 100 + 100);
  }
  return (status) => status < 600 && passing[status] === 1;
}

/** A new plan: healthy attempts in plan order, then the others in plan order, cut to `length`. */
function healthyFirst(attempts: readonly Attempt[], healthy: readonly boolean[], length: number): Attempt[] {
  const out: Attempt[] = new Array(length);
  let filled = 0;
  for (let i = 0; i < attempts.length; i++) if (healthy[i]) out[filled++] = attempts[i]!;
  for (let i = 0; i < attempts.length && filled < length; i++) if (!healthy[i]) out[filled++] = attempts[i]!;
  return out;
}
