/**
 * `switchyard simulate` over a recorded day (test/fixtures/simulate/records.jsonl, captured by
 * record-jsonl's captureBody): a candidate pipeline (two mock backends weighted 3:1, 5 requests
 * per hour per tenant, cheaper prices) against the live one, every figure checked.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulateCommand, type SimulationReport } from "../../cli/simulate.js";
import { builtInRegistry } from "../support/gateway.js";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "simulate");
const args = ["--records", join(FIXTURE, "records.jsonl"), "--pipeline", join(FIXTURE, "new.pipeline.json"), "--against", join(FIXTURE, "old.pipeline.json"), "--since", "2026-11-30"];

async function simulate(extra: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await simulateCommand(extra, await builtInRegistry(), { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) });
  return { code, out, err };
}

describe("switchyard simulate", () => {
  it("replays the recorded day through the candidate and the live pipeline, beside what happened", async () => {
    const { code, out, err } = await simulate([...args, "--json"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(out) as SimulationReport;
    // 15 records since the 30th (one from the 29th left out); 2 were recorded without a body.
    expect(report).toMatchObject({ records: 15, replayed: 13, since: "2026-11-30" });
    const [recorded, candidate, live] = report.columns;
    expect(recorded).toEqual({
      label: "recorded", requests: 13, refused: { "429 rate_limit_exceeded": 1 }, routing: { openai: 12 },
      spendByTenant: { acme: expect.closeTo(0.06, 9), beta: expect.closeTo(0.03, 9) }, spendByModel: { "gpt-4o": expect.closeTo(0.09, 9) }, unpriced: 0, hits: {},
    });
    // acme sent 8 requests in the 09:00 hour: the candidate's 5 per hour refuses 3; beta's 5 in the 10:00 hour all fit.
    expect(candidate!.refused).toEqual({ "ratelimit 429 rate_limit_exceeded": 3 });
    expect(candidate!.hits).toEqual({ "ratelimit tenant-hourly (requests per 1h)": 3 });
    // Smooth weighted round-robin 3:1 over the 13 plans; the 10 served ones split 8:2.
    expect(candidate!.routing).toEqual({ "mock-a": 8, "mock-b": 2 });
    // New prices on recorded usage (1000 in, 500 out): $0.003 a request; beta's recorded 429 has no usage.
    expect(candidate!.spendByTenant).toEqual({ acme: expect.closeTo(0.015, 9), beta: expect.closeTo(0.012, 9) });
    expect(candidate!.spendByModel).toEqual({ "gpt-4o": expect.closeTo(0.027, 9) });
    expect(live).toMatchObject({ refused: {}, routing: { openai: 13 }, hits: {}, unpriced: 0 });
    expect(live!.spendByTenant).toEqual({ acme: expect.closeTo(0.06, 9), beta: expect.closeTo(0.03, 9) });
  });

  it("prints the columns side by side for people", async () => {
    const { out } = await simulate(args);
    expect(out).toContain("simulate  13 of 15 recorded requests since 2026-11-30 replayed");
    expect(out).toMatch(/ {2}ratelimit 429 rate_limit_exceeded +0 +3 +0/);
    expect(out).toMatch(/ {2}mock-a +0 \(0\.0%\) +8 \(61\.5%\) +0 \(0\.0%\)/);
    expect(out).toMatch(/ {2}acme +\$0\.060000 +\$0\.015000 +\$0\.060000/);
  });

  it("sends the requests for real through the candidate, against provider-mock unless --send", async () => {
    const report = JSON.parse((await simulate([...args, "--json"])).out) as SimulationReport;
    expect(report.send).toMatchObject({ backends: "mock", concurrency: 4, sent: 13 });
    // In real time the candidate's 5 per hour refuses 3 of acme's 8 requests.
    expect(report.send!.statuses).toEqual({ recorded: { "200": 12, "429": 1 }, replay: { "200": 10, "429": 3 } });
    // The mock does not answer as the recorded backend did: every comparable answer differs.
    expect(report.send!.answers.same).toBe(0);
  });

  it("says how it is called", async () => {
    expect((await simulate([...args, "--concurrency", "0"])).err).toMatch(/--concurrency "0": expected a whole number from 1 to 256/);
    expect((await simulate([])).err).toMatch(/switchyard simulate --records FILE\|postgres:\/\/… \[--table T\] --pipeline NEW/);
  });
});
