/**
 * The dashboard in a real browser (Debian's headless Chromium driven by playwright-core): served
 * from the shipped pipelines (default + dashboard), it takes the admin key typed into the page,
 * draws the default pipeline's step chain, counts a request made during the test, shows its
 * spend, and logs no console error. It writes docs/dashboard.png, the README's screenshot.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithout } from "../support/required-binaries.js";
import { startGateway, type TestGateway } from "../support/gateway.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const ADMIN_KEY = "sk-dashboard-test-admin";
const DEMO_KEY = "sk-switchyard-demo";
const root = join(import.meta.dirname, "..", "..");

const skip = skipWithout({ what: "Chromium (the dashboard's browser test)", found: existsSync(CHROMIUM), debianPackage: "chromium" });

describe.skipIf(skip)("the dashboard at /admin/ui", () => {
  let gw: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    // The shipped pipelines as they are, with an admin key added to their keys file.
    const files: Record<string, unknown> = {};
    for (const name of await readdir(join(root, "pipelines"))) files[`pipelines/${name}`] = await readFile(join(root, "pipelines", name), "utf8");
    const keys = JSON.parse(files["pipelines/keys.json"] as string) as { keys: unknown[] };
    keys.keys.push({ id: "dashboard-admin", tenant: "ops", role: "admin", hash: `sha256:${createHash("sha256").update(ADMIN_KEY).digest("hex")}` });
    files["pipelines/keys.json"] = keys;
    gw = await startGateway(files);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it("draws the default pipeline, shows a request made during the test and its spend, with no console error", async () => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEMO_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "Hello from the dashboard test" }] }),
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    await gw.server.recordsWritten();

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (err) => consoleErrors.push(err.message));

    await page.goto(`${gw.url}/admin/ui`);
    await page.fill("#key", ADMIN_KEY);
    await page.click("button[type=submit]");

    const chain = page.locator('[data-pipeline="default"] .step');
    await chain.first().waitFor();
    expect(await chain.allTextContents()).toEqual(expect.arrayContaining(["auth-api-key", "validate", "admin-api", "select-round-robin", "record-jsonl"]));
    // The one model request of this test; page loads and admin calls are no traffic.
    await page.locator("#requests-total", { hasText: /^1 requests in the last 30 min$/ }).waitFor();
    await page.locator("#spend-by-model td", { hasText: "mock-small" }).first().waitFor();
    await page.locator("#backends td", { hasText: "mock-a" }).first().waitFor();
    // The key stays in this tab's sessionStorage, never in the page's address or the input.
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem("switchyard-admin-key"))).toBe(ADMIN_KEY);
    expect(await page.inputValue("#key")).toBe("");

    await page.screenshot({ path: join(root, "docs", "dashboard.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
