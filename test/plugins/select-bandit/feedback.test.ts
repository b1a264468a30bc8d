/** The feedback endpoint of select-bandit, through its hooks, and the plan when the store is down. */
import { describe, expect, it } from "vitest";
import { GatewayError, StoreUnavailableError, type Answer, type Attempt, type Backend, type StateStore } from "../../../core/index.js";
import { createMemoryStore } from "../../../lib/state/memory.js";
import { createTestBackend, createTestExchange, createTestStep } from "../../../testkit/index.js";
import { selectBanditPlugin } from "../../../plugins/select-bandit/index.js";
import { parseFeedback } from "../../../plugins/select-bandit/feedback.js";

const CONFIG = { seed: 3, refreshMs: 0, explore: 0, reward: { success: 1, feedback: 3 } };

async function banditWithFeedback(store: StateStore = createMemoryStore()) {
  const backends = new Map<string, Backend>(["a", "b"].map((id) => [id, createTestBackend(id)]));
  const attempts: Attempt[] = [...backends.values()].map((backend) => ({ backend, model: "m" }));
  const { hooks } = await createTestStep(selectBanditPlugin(), CONFIG, { backends, store });
  return {
    hooks,
    /** One successful request by `tenant` on the bandit's first choice; its id and backend. */
    async serve(tenant: string, on?: string) {
      const x = createTestExchange({ tenant, model: "m" });
      const planned = await hooks.plan.promise([...attempts], x);
      const id = on ?? planned[0]!.backend.id;
      hooks.attemptFinished.call(x, { backend: id, model: "m", status: 200, ttfbMs: 10, latencyMs: 20 });
      x.backend = id;
      await hooks.settle.promise(x);
      return { requestId: x.id, backend: id };
    },
    async feedback(tenant: string, body: Record<string, unknown>) {
      const x = createTestExchange({ tenant, body, route: { endpoint: "feedback", path: "/v1/feedback" } });
      const answer = (await hooks.endpoint.for("feedback").promise(x, {} as never)) as Answer;
      return { answer, notes: x.notes };
    },
    firstChoices: async (n: number) => {
      const firsts: string[] = [];
      for (let i = 0; i < n; i++) firsts.push((await hooks.plan.promise([...attempts], createTestExchange({ model: "m" })))[0]!.backend.id);
      return firsts;
    },
  };
}

const statusOf = (answer: Answer) => (answer instanceof GatewayError ? answer.status : answer.status);

describe("select-bandit feedback", () => {
  it("credits the arm that served the request, and notes the feedback on the feedback call's record", async () => {
    const bandit = await banditWithFeedback();
    // Both backends succeed alike; only feedback tells them apart.
    for (let i = 0; i < 40; i++) {
      const served = await bandit.serve("acme", i % 2 === 0 ? "a" : "b");
      const { answer, notes } = await bandit.feedback("acme", { request_id: served.requestId, score: served.backend === "b" ? 1 : 0, label: "thumbs" });
      expect(answer).toMatchObject({ status: 200, body: { request_id: served.requestId, backend: served.backend, applied: true } });
      expect(notes[0]).toContain(`feedback for ${served.requestId}: score=`);
    }
    const firsts = await bandit.firstChoices(100);
    expect(firsts.filter((f) => f === "b").length).toBeGreaterThanOrEqual(90);
  });

  it("maps a value through the configured range", async () => {
    const bandit = await banditWithFeedback();
    const served = await bandit.serve("acme");
    const { answer } = await bandit.feedback("acme", { request_id: served.requestId, value: 0.25 });
    expect(answer).toMatchObject({ status: 200, body: { reward: 0.25 } });
  });

  it("answers 404 for an unknown request and for another tenant's, alike", async () => {
    const bandit = await banditWithFeedback();
    const served = await bandit.serve("acme");
    for (const [tenant, requestId] of [["acme", "no-such-request"], ["globex", served.requestId]] as const) {
      const { answer } = await bandit.feedback(tenant, { request_id: requestId, score: 1 });
      expect(answer).toBeInstanceOf(GatewayError);
      expect(answer).toMatchObject({ status: 404, code: "request_not_found", param: "request_id" });
    }
  });

  it("takes one feedback per request: a second is a 409", async () => {
    const bandit = await banditWithFeedback();
    const served = await bandit.serve("acme");
    expect(statusOf((await bandit.feedback("acme", { request_id: served.requestId, score: 1 })).answer)).toBe(200);
    expect((await bandit.feedback("acme", { request_id: served.requestId, score: 0 })).answer).toMatchObject({ status: 409, code: "feedback_already_given" });
  });

  it("names the field a malformed body gets wrong", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ score: 1 }, "request_id"],
      [{ request_id: 7, score: 1 }, "request_id"],
      [{ request_id: "r" }, "score"],
      [{ request_id: "r", score: 1.5 }, "score"],
      [{ request_id: "r", score: "1" }, "score"],
      [{ request_id: "r", score: 1, value: 2 }, "score"],
      [{ request_id: "r", value: "x" }, "value"],
      [{ request_id: "r", score: 1, label: 3 }, "label"],
    ];
    for (const [body, param] of cases) expect(parseFeedback(body), JSON.stringify(body)).toMatchObject({ status: 400, code: "invalid_feedback", param });
  });
});

describe("select-bandit without its store", () => {
  it("leaves the plan as it came rather than failing the request", async () => {
    const store = createMemoryStore();
    const down: StateStore = { ...store, add: () => Promise.reject(new StoreUnavailableError("store down")), get: () => Promise.reject(new StoreUnavailableError("store down")) };
    const bandit = await banditWithFeedback(down);
    expect(await bandit.firstChoices(3)).toEqual(["a", "a", "a"]);
  });
});
