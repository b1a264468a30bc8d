/**
 * The deployment of deploy/compose.yaml, on loopback instead of Docker: three gateway processes
 * (`switchyard serve` from dist/, deploy/pipelines/gateway) sharing one real Redis and one real
 * Postgres, behind a fourth process serving deploy/pipelines/balancer (switchyard's own `http`
 * pipeline, round robin with active health checks). The pipelines are the deploy files themselves,
 * with changes for the test written into the copies: the rate limit is 10 requests and applies
 * to one tenant only, Redis commands and health probes may take longer (a loaded machine), and the balancer also writes records (its attempts show where each request went).
 */
import { readFile, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { serve, type ServeProcess } from "../support/cli-process.js";
import { freePort } from "../support/free-port.js";
import { keysFile } from "../support/gateway.js";
import { skipWithoutPostgres, startPostgresServer, type PostgresServer } from "../support/postgres-server.js";
import { readWholeRecords } from "../support/records.js";
import { skipWithoutRedis, startRedisServer, type RedisServer } from "../support/redis-server.js";
import { startOpenAiUpstream, type OpenAiUpstream } from "../support/upstream-openai.js";
import { waitUntil } from "../support/wait.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DEPLOY = join(ROOT, "deploy");
const KEYS = { limited: "sk-topology-limited", load: "sk-topology-load", prometheus: "sk-topology-prometheus" };
const LIMIT = 10;

const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));

interface Answer {
  status: number;
  /** The replica the balancer's reply came from (x-switchyard-backend), null when none answered. */
  replica: string | null;
  /** The balancer's request id: its record says which replicas each attempt went to. */
  id: string | null;
  ok: boolean;
}

describe.skipIf(skipWithoutRedis() || skipWithoutPostgres())("deploy topology on loopback: 3 replicas, Redis, Postgres, a switchyard balancer", () => {
  let redis: RedisServer;
  let postgres: PostgresServer;
  let upstream: OpenAiUpstream;
  let db: pg.Client;
  let dir: string;
  let replicas: ServeProcess[] = [];
  let balancer: ServeProcess;
  /** Each replica's admin port (compose and k8s: --admin-port 9090; here, one free port each). */
  const adminPorts: number[] = [];

  const rows = async (where = "true"): Promise<number> =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM switchyard_requests WHERE ${where}`).catch(() => ({ rows: [{ n: "0" }] }))).rows[0]!.n);

  async function chat(key: string): Promise<Answer> {
    try {
      const r = await fetch(`${balancer.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "through the balancer" }] }),
      });
      const body = await r.text();
      const ok = r.status === 200 && JSON.parse(body).choices?.[0]?.message !== undefined;
      return { status: r.status, replica: r.headers.get("x-switchyard-backend"), id: r.headers.get("x-switchyard-request-id"), ok };
    } catch {
      // The connection to the balancer broke: a failed client request all the same.
      return { status: 0, replica: null, id: null, ok: false };
    }
  }

  beforeAll(async () => {
    [redis, postgres, upstream] = await Promise.all([startRedisServer(), startPostgresServer(), startOpenAiUpstream({ headersDelayMs: 20 })]);
    db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    dir = await mkdtemp(join(tmpdir(), "switchyard-topology-"));
    await mkdir(join(dir, "gateway"));
    await mkdir(join(dir, "balancer"));
    await writeFile(join(dir, "keys.json"), JSON.stringify(await keysFile([
      { key: KEYS.limited, id: "limited", tenant: "limited" },
      { key: KEYS.load, id: "load", tenant: "load" },
      { key: KEYS.prometheus, id: "prometheus", tenant: "ops", role: "admin" },
    ])));

    const gateway = await readJson(join(DEPLOY, "pipelines/gateway/gateway.pipeline.json"));
    // A loaded 2-core machine can stall a process past the default 500 ms Redis command timeout; a
    // hit Redis applied but the replica stopped waiting for is refused (fail-closed) and still
    // counted, which would move the exact count by the stall, not by the sharing under test.
    gateway.store.commandTimeoutMs = 10_000;
    const ratelimit = gateway.steps.find((s: { use: string }) => s.use === "ratelimit");
    ratelimit.when = { tenant: "limited" };
    ratelimit.config.rules[0].requests = { limit: LIMIT, window: "1h" };
    await writeFile(join(dir, "gateway", "gateway.pipeline.json"), JSON.stringify(gateway));

    const lb = await readJson(join(DEPLOY, "pipelines/balancer/balancer.pipeline.json"));
    // Probes often, and waits long for a reply: a replica stalled by the loaded machine is not a dead one
    // (a dead one refuses the connection at once).
    Object.assign(lb.steps.find((s: { use: string }) => s.use === "health-active").config, { intervalMs: 200, timeoutMs: 10_000 });
    lb.steps.push({ use: "record-jsonl", config: { path: "./records.jsonl", batchSize: 1 } });
    await writeFile(join(dir, "balancer", "balancer.pipeline.json"), JSON.stringify(lb));

    for (let n = 1; n <= 3; n++) adminPorts.push(await freePort());
    const replicaEnv = (n: number) => ({
      ADMIN_PORT: String(adminPorts[n - 1]),
      REDIS_URL: redis.url, DATABASE_URL: postgres.url, OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: "sk-upstream-topology",
      SWITCHYARD_KEYS_FILE: join(dir, "keys.json"), SWITCHYARD_SPOOL_PATH: join(dir, `replica-${n}.spool.jsonl`),
    });
    // The first creates the records table; the others then find it (concurrent CREATE TABLE IF NOT EXISTS can clash in Postgres).
    replicas.push(await serve([join(dir, "gateway")], replicaEnv(1)));
    await waitUntil(async () => (await db.query("SELECT to_regclass('switchyard_requests') AS t")).rows[0].t !== null, () => "records table not created");
    replicas.push(...(await Promise.all([serve([join(dir, "gateway")], replicaEnv(2)), serve([join(dir, "gateway")], replicaEnv(3))])));
    balancer = await serve([join(dir, "balancer")], Object.fromEntries(replicas.map((r, i) => [`GATEWAY_${i + 1}_URL`, r.url])));
  }, 120_000);

  afterAll(async () => {
    for (const p of [balancer, ...replicas]) if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
    await Promise.all([balancer, ...replicas].filter(Boolean).map((p) => p.exited));
    await db?.end();
    await upstream?.close();
    await Promise.all([redis?.stop(), postgres?.stop()]);
  }, 60_000);

  it(`holds one rate limit across the three replicas: of 30 concurrent requests exactly ${LIMIT} pass, and each request is one row in Postgres`, async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, () => chat(KEYS.limited)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(LIMIT);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(30 - LIMIT);
    // Round robin spread the burst: the limit was held across processes, not within one.
    expect(new Set(answers.map((a) => a.replica)).size).toBe(3);

    await waitUntil(async () => (await rows("tenant = 'limited'")) >= 30, () => "records of the burst not all in Postgres");
    expect(await rows("tenant = 'limited'")).toBe(30);
    expect(await rows("tenant = 'limited' AND status = 200")).toBe(LIMIT);
    expect(await rows("tenant = 'limited' AND status = 429")).toBe(30 - LIMIT);
  });

  it("serves /metrics on each replica's admin port only, as Prometheus scrapes it with an admin key; the main port and the balancer answer 404", async () => {
    const live = adminPorts.map((port, i) => ({ port, replica: replicas[i]! }));
    for (const { port, replica } of live) {
      const scrape = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${KEYS.prometheus}` } });
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain('switchyard_requests_total{pipeline="gateway"');
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
      const main = await fetch(`${replica.url}/metrics`, { headers: { authorization: `Bearer ${KEYS.prometheus}` } });
      expect(main.status).toBe(404);
      await main.text();
    }
    const through = await fetch(`${balancer.url}/metrics`, { headers: { authorization: `Bearer ${KEYS.prometheus}` } });
    expect(through.status).toBe(404);
    await through.text();
  });

  it("loses no client request on the live replicas when one replica is SIGKILLed mid-load", async () => {
    // What is asserted: requests whose reply came from gateway-1 or gateway-3 all succeed, and a
    // request that failed (if any) had every attempt on gateway-2, i.e. it was in flight there when
    // it died, with its reply already started (before the reply the balancer moves on: a refused or
    // reset connection is a connect failure, which it retries on another replica).
    const TOTAL = 90;
    const CONCURRENCY = 6;
    const answers: (Answer & { afterKill: boolean })[] = [];
    let killed = false;
    let next = 0;
    const worker = async () => {
      while (next < TOTAL) {
        next++;
        const answer = await chat(KEYS.load);
        answers.push({ ...answer, afterKill: killed });
        if (!killed && answers.length === 20) {
          killed = true;
          replicas[1]!.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(await replicas[1]!.exited).toBe(null); // killed by the signal, not exited

    const failed = answers.filter((a) => !a.ok);
    const byReplica = (name: string) => answers.filter((a) => a.replica === name);
    console.info(`replica kill: ${TOTAL} requests, ${answers.filter((a) => a.afterKill).length} finished after the kill; ` +
      `gateway-1 ${byReplica("gateway-1").length}, gateway-2 ${byReplica("gateway-2").length}, gateway-3 ${byReplica("gateway-3").length}; failed ${failed.length}`);
    expect(answers).toHaveLength(TOTAL);
    expect(byReplica("gateway-2").length).toBeGreaterThan(0); // it was serving when it died
    expect(answers.filter((a) => a.afterKill).length).toBeGreaterThanOrEqual(TOTAL - 20 - CONCURRENCY);
    for (const a of [...byReplica("gateway-1"), ...byReplica("gateway-3")]) expect(a.ok).toBe(true);
    expect(failed.length).toBeLessThanOrEqual(CONCURRENCY);
    if (failed.length > 0) {
      const records = (await readWholeRecords(join(dir, "balancer", "records.jsonl"))).records as { id: string; attempts: { backend: string }[] }[];
      for (const f of failed) {
        const record = records.find((r) => r.id === f.id);
        expect(record?.attempts.map((a) => a.backend)).toEqual(expect.arrayContaining(["gateway-2"]));
        expect(record?.attempts.every((a) => a.backend === "gateway-2")).toBe(true);
      }
    }

    // The live replicas drain on SIGTERM and flush their records: each request they served is
    // one row. gateway-2's rows are those it flushed before it died (records buffered in its
    // memory at the kill are lost: a SIGKILL leaves no time to flush), and none is written twice.
    for (const r of [replicas[0]!, replicas[2]!]) r.child.kill("SIGTERM");
    expect(await replicas[0]!.exited).toBe(0);
    expect(await replicas[2]!.exited).toBe(0);
    const stored = await rows("tenant = 'load'");
    const servedByLive = byReplica("gateway-1").length + byReplica("gateway-3").length;
    console.info(`replica kill: ${stored} rows in Postgres for ${answers.filter((a) => a.ok).length} successful requests (${servedByLive} served by the live replicas)`);
    expect(stored).toBeGreaterThanOrEqual(servedByLive);
    expect(stored).toBeLessThanOrEqual(answers.filter((a) => a.replica !== null).length);
  });

  it("ships the same gateway pipeline to compose and Kubernetes, with probes, a preStop drain and a non-root image", async () => {
    const pipeline = await readJson(join(DEPLOY, "pipelines/gateway/gateway.pipeline.json"));
    const compose = parseYaml(await readFile(join(DEPLOY, "compose.yaml"), "utf8"));
    for (const n of [1, 2, 3]) {
      const service = compose.services[`gateway-${n}`];
      expect(service.volumes).toContain("./pipelines/gateway:/etc/switchyard/pipelines:ro");
      expect(compose.services.balancer.environment[`GATEWAY_${n}_URL`]).toBe(`http://gateway-${n}:8080`);
    }
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(["balancer", "redis", "postgres", "prometheus"]));
    // Prometheus scrapes what the replicas serve: /metrics on their admin port, with a bearer key.
    const adminPortOf = (args: string[]) => args[args.indexOf("--admin-port") + 1];
    expect(adminPortOf(compose.services["gateway-1"].command)).toBe("9090");
    const prometheus = parseYaml(await readFile(join(DEPLOY, "prometheus", "prometheus.yml"), "utf8"));
    const job = prometheus.scrape_configs[0];
    expect(job.metrics_path).toBe("/metrics");
    expect(job.authorization.credentials_file).toBeDefined();
    expect(job.static_configs[0].targets).toEqual([1, 2, 3].map((n) => `gateway-${n}:9090`));
    expect(compose.services.prometheus.volumes).toContain("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro");

    const k8s = new Map<string, any>();
    for (const file of ["configmap.yaml", "secret.yaml", "deployment.yaml", "service.yaml", "hpa.yaml"]) {
      for (const doc of parseAllDocuments(await readFile(join(DEPLOY, "k8s", file), "utf8"))) {
        const value = doc.toJS();
        k8s.set(`${value.kind}/${value.metadata.name}`, value);
      }
    }
    expect(JSON.parse(k8s.get("ConfigMap/switchyard-pipelines").data["gateway.pipeline.json"])).toEqual(pipeline);
    const pod = k8s.get("Deployment/switchyard").spec.template.spec;
    const container = pod.containers[0];
    expect(adminPortOf(container.args)).toBe("9090");
    expect(container.ports).toContainEqual({ name: "admin", containerPort: 9090 });
    const annotations = k8s.get("Deployment/switchyard").spec.template.metadata.annotations;
    expect([annotations["prometheus.io/path"], annotations["prometheus.io/port"]]).toEqual(["/metrics", "9090"]);
    // Operator routes stay inside the cluster: the Service exposes the main port only.
    expect(k8s.get("Service/switchyard").spec.ports.map((p: { targetPort: string }) => p.targetPort)).toEqual(["http"]);
    expect(container.livenessProbe.httpGet.path).toBe("/livez");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.startupProbe.httpGet.path).toBe("/startupz");
    expect(container.lifecycle.preStop).toBeDefined();
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(k8s.get("HorizontalPodAutoscaler/switchyard").spec.scaleTargetRef.name).toBe("switchyard");
    expect(k8s.get("Service/switchyard")).toBeDefined();
    expect(k8s.get("Secret/switchyard-keys").stringData["keys.json"]).toBeDefined();

    const dockerfile = await readFile(join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
