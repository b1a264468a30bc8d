/**
 * `switchyard simulate --records postgres://…`: a live gateway records into a real PostgreSQL
 * with record-postgres's captureBody (guard-pii redacting before capture, a bounded body size),
 * then the candidate pipeline replays the rows since the day began, every figure checked.
 */
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulateCommand, type SimulationReport } from "../../cli/simulate.js";
import { digestText } from "../../lib/record/answer-digest.js";
import { builtInRegistry, keysFile, startGateway, type TestGateway } from "../support/gateway.js";
import { skipWithoutPostgres, startPostgresServer, type PostgresServer } from "../support/postgres-server.js";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "simulate");
const TABLE = "live_requests";

let server: PostgresServer;
let gw: TestGateway;
const since = new Date().toISOString();

async function rows(): Promise<Record<string, any>[]> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    return (await client.query(`SELECT * FROM ${TABLE} ORDER BY time, id`)).rows;
  } finally {
    await client.end();
  }
}

async function ask(content: string): Promise<void> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-acme-live" },
    body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
}

describe.skipIf(skipWithoutPostgres())("switchyard simulate over record-postgres rows", () => {
  beforeAll(async () => {
    server = await startPostgresServer();
    gw = await startGateway({
      "keys.json": await keysFile([{ key: "sk-acme-live", id: "k-acme", tenant: "acme" }]),
      "pricing.json": { updated: "2026-12-01", currency: "USD", models: { "gpt-4o": { input: 2.5, output: 10 } } },
      "live.pipeline.json": {
        id: "live",
        routes: [{ method: "POST", path: "/v1/chat/completions", format: "openai-chat" }],
        backends: { "mock-live": { use: "provider-mock", models: ["gpt-4o"], config: { echo: true, usage: { inputTokens: 1000, outputTokens: 500 } } } },
        steps: [
          { use: "auth-api-key", config: { keysFile: "./keys.json" } },
          { use: "validate" },
          { use: "guard-pii", config: { mode: "redact" } },
          { use: "cost", config: { pricingFile: "./pricing.json" } },
          { use: "record-postgres", config: { connectionString: server.url, table: TABLE, flushIntervalMs: 20, spoolPath: "./spool.jsonl", captureBody: { maxBytes: 300 } } },
        ],
      },
    });
    await ask("question one from acme");
    await ask("please mail the answer to jane.doe@example.com");
    await ask("x".repeat(400));
    // Closing flushes every record to Postgres.
    await gw.close();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it("stores the body as guard-pii left it, only the size of one over maxBytes, and the answer's digest", async () => {
    const stored = await rows();
    expect(stored).toHaveLength(3);
    const [first, redacted, large] = stored.sort((a, b) => (a.request.bytes ?? 0) - (b.request.bytes ?? 0) || a.time - b.time);
    expect(large!.request).toEqual({ truncated: true, bytes: Buffer.byteLength(JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x".repeat(400) }] })) });
    const texts = [first, redacted].map((r) => r!.request.body.messages[0].content as string);
    expect(texts).toContain("question one from acme");
    const scrubbed = texts.find((t) => t !== "question one from acme")!;
    expect(scrubbed).not.toContain("jane.doe@example.com");
    expect(scrubbed).toMatch(/^please mail the answer to \[REDACTED/);
    // The mock echoes the (scrubbed) question: the digest is that text's.
    for (const row of [first, redacted]) expect(row!.answer_digest).toBe(digestText(row!.request.body.messages[0].content));
    expect(large!.answer_digest).toBe(digestText("x".repeat(400)));
  });

  it("replays the rows since a time through the candidate, beside what the rows say happened", async () => {
    let out = "";
    let err = "";
    const code = await simulateCommand(
      ["--records", server.url, "--table", TABLE, "--since", since, "--pipeline", join(FIXTURE, "new.pipeline.json"), "--json"],
      await builtInRegistry(), { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) },
    );
    expect(err).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(out) as SimulationReport;
    // Three rows; the one over maxBytes has no body to replay.
    expect(report).toMatchObject({ records: 3, replayed: 2, since });
    const [recorded, candidate] = report.columns;
    // 1000 in and 500 out at $2.5/$10 per 1M: $0.0075 a request, recorded.
    expect(recorded).toEqual({
      label: "recorded", requests: 2, refused: {}, routing: { "mock-live": 2 },
      spendByTenant: { acme: expect.closeTo(0.015, 9) }, spendByModel: { "gpt-4o": expect.closeTo(0.015, 9) }, unpriced: 0, hits: {},
    });
    // The candidate: weights 3:1 send both to mock-a first; its $1/$4 prices make $0.003 a request.
    expect(candidate).toEqual({
      label: "new", requests: 2, refused: {}, routing: { "mock-a": 2 },
      spendByTenant: { acme: expect.closeTo(0.006, 9) }, spendByModel: { "gpt-4o": expect.closeTo(0.006, 9) }, unpriced: 0, hits: {},
    });
  });

  it("says which database and table it could not read, without the URL's password", async () => {
    let err = "";
    const url = server.url.replace("postgres@", "postgres:s3cret-pass@");
    const code = await simulateCommand(["--records", url, "--table", "no_such_table", "--pipeline", join(FIXTURE, "new.pipeline.json")], await builtInRegistry(), { write: () => {} }, { write: (t: string) => (err += t) });
    expect(code).toBe(1);
    expect(err).toMatch(/^postgres 127\.0\.0\.1:\d+\/postgres, table no_such_table: relation "no_such_table" does not exist/);
    expect(err).not.toContain("s3cret-pass");
  });
});
