/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, on a real calculator
 * node. The page shows the release and the supervision tree; `relup apply` to 1.1.0 makes the timeline
 * appear with its steps and the plan beside it; a request without the token is refused; and nothing the
 * page can do (every button clicked, every field filled) changes the node: every request it makes is a
 * GET of its own origin, and the node runs the same processes afterwards.
 *
 * Needs chromium (`apt-get install chromium`; .ci/run installs it). RELUP_CHROMIUM names another binary.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startObserveServer, type ObserveServer } from "../../src/observe/observe-server.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";
import { workerV2, writeFleet } from "../helpers/fleet.ts";

const CHROMIUM = process.env.RELUP_CHROMIUM ?? "/usr/bin/chromium";
/** RELUP_SCREENSHOTS=DIR: also save what the page showed (the PNGs of docs/observe.md). */
const SCREENSHOTS = process.env.RELUP_SCREENSHOTS;
const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const FIXTURES = path.resolve("fixtures");

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set RELUP_CHROMIUM`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

async function openDashboard(node?: Awaited<ReturnType<typeof liveNode>>) {
  const n = node ?? (await liveNode({ from: path.join(FIXTURES, "calculator", "1.0.0"), to: path.join(FIXTURES, "calculator", "1.1.0"), app: "calculator" }));
  const server: ObserveServer = await startObserveServer({ root: n.root });
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: { method: string; url: string }[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("request", (request) => requests.push({ method: request.method(), url: request.url() }));
  await page.goto(server.url);
  return { n, server, page, problems, requests, close: async () => (await context.close(), await server.close()) };
}

const text = (page: Page, selector: string) => page.locator(selector).innerText();

describe("relup observe in a browser", () => {
  it("shows the release and the tree; relup apply makes the timeline appear with its steps and plan", async () => {
    const d = await openDashboard();
    try {
      await expect.poll(() => text(d.page, "#release-title"), { timeout: 15_000 }).toBe("calculator 1.0.0");
      expect(await text(d.page, "#releases-table tbody")).toMatch(/calculator\s+1\.0\.0\s+permanent/);
      const sup = d.page.locator('#trees li[data-module="calculator/sup"]');
      await expect.poll(() => sup.count(), { timeout: 15_000 }).toBe(1);
      const server = d.page.locator('#trees li[data-module="calculator/http_server"]');
      expect(await server.innerText()).toMatch(/http: calculator\/http_server\s+running\s+<0\.\d+\.0> · server · 0 restarts/);
      expect(await text(d.page, "#modules-processes tbody")).toContain("calculator/http_server");
      expect(await text(d.page, "#modules-table tbody")).toContain("calculator/calculator");
      // Versions as `relup status` prints them: a code hash by its first 8 hex digits, no JSON quotes.
      expect(await text(d.page, "#modules-table tbody")).not.toMatch(/[0-9a-f]{9,}|"/);
      await expect.poll(() => d.page.locator("#process-list tbody tr").count(), { timeout: 15_000 }).toBeGreaterThan(1);
      expect(await text(d.page, "#install-line")).toBe("No install or rollback since the node started.");
      // The node's uptime in the header moves on by itself (the overview is sent only when more than it changed).
      const uptime = async () => Number(/up (\d+) s/.exec(await text(d.page, "#node-line"))?.[1]);
      const firstUptime = await uptime();
      await expect.poll(uptime, { timeout: 15_000 }).toBeGreaterThan(firstUptime + 1);

      expect((await relup(["apply", d.n.v2, "--root", d.n.root, "--yes"])).code).toBe(0);
      await expect.poll(() => text(d.page, "#install-line"), { timeout: 15_000 }).toMatch(/^Install of 1\.1\.0 \(from 1\.0\.0\): installed, 3 of 3 steps/);
      expect(await d.page.locator("#timeline-figure").isVisible()).toBe(true);
      const steps = await d.page.locator("#steps-table tbody tr").evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll("td")].slice(0, 2).map((td) => td.textContent).join(" ")));
      expect(steps).toEqual(["1 load_object_code", "2 point_of_no_return", "3 load"]);
      // A bar for the preflight and one per step.
      expect(await d.page.locator("#timeline-chart svg rect[data-op]").count()).toBe(4);
      expect(await text(d.page, "#timeline-caption")).toMatch(/Point of no return passed at [\d.]+ ms\. No process suspended\./);
      await expect.poll(() => text(d.page, "#plan-view h3"), { timeout: 15_000 }).toBe("relup plan: calculator 1.0.0 → 1.1.0");
      await expect.poll(() => text(d.page, "#release-title"), { timeout: 15_000 }).toBe("calculator 1.1.0");
      expect(await text(d.page, "#releases-table tbody")).toMatch(/calculator\s+1\.1\.0\s+current/);
      // Every chart has its text alternative.
      await expect.poll(() => text(d.page, "#chart-loop-caption"), { timeout: 15_000 }).toMatch(/^Event-loop delay, last 5 minutes: longest now [\d.]+ ms, highest/);
      expect(await d.page.locator("figure svg[aria-labelledby]").count()).toBe(3);
      if (SCREENSHOTS) await d.page.screenshot({ path: path.join(SCREENSHOTS, "observe-calculator.png") });
      // A rollback is said as such, with the plan whose downgrade section it ran.
      expect((await relup(["rollback", "--root", d.n.root])).code).toBe(0);
      await expect.poll(() => text(d.page, "#install-line"), { timeout: 15_000 }).toMatch(/^Rollback from 1\.1\.0 to 1\.0\.0: done, /);
      await expect.poll(() => text(d.page, "#plan-view .plan-note"), { timeout: 15_000 }).toBe("A rollback: the node ran this plan's downgrade section.");
      expect(d.problems).toEqual([]);
    } finally {
      await d.close();
    }
  }, 120_000);

  it("draws a failed install as a rollback, with how far the migration got", async () => {
    const dir = await tempDir();
    const n = await liveNode({ dir, from: await writeFleet(dir, { version: "1.0.0" }), to: await writeFleet(dir, { version: "2.0.0", worker: workerV2([3]) }), app: "fleet" });
    const d = await openDashboard(n);
    try {
      await expect.poll(() => text(d.page, "#release-title"), { timeout: 15_000 }).toBe("fleet 1.0.0");
      expect((await relup(["apply", n.v2, "--root", n.root, "--yes"])).code).toBe(1);
      await expect.poll(() => text(d.page, "#install-line"), { timeout: 15_000 }).toMatch(/^Install of 2\.0\.0 \(from 1\.0\.0\): failed and rolled back, \d+ of \d+ steps, .* install-failed: .*cannot migrate worker 3/);
      expect(await d.page.locator("#install-line").getAttribute("class")).toBe("outcome-rolled-back");
      expect(await d.page.locator("#timeline-chart rect.rollback-band").count()).toBe(1);
      expect(await d.page.locator("#timeline-chart rect.suspend-window").count()).toBe(1);
      const caption = await text(d.page, "#timeline-caption");
      expect(caption).toContain("fleet/worker 3 of 5 processes migrated");
      expect(caption).toMatch(/Rolled back from [\d.]+ ms: codeChange failed for process 4 of 5: cannot migrate worker 3/);
      if (SCREENSHOTS) await d.page.locator("#upgrade").screenshot({ path: path.join(SCREENSHOTS, "observe-rollback.png") });
      expect(await text(d.page, "#release-title")).toBe("fleet 1.0.0");
      expect(d.problems).toEqual([]);
    } finally {
      await d.close();
    }
  }, 120_000);

  it("refuses a request without the token", async () => {
    const d = await openDashboard();
    try {
      const refused = await d.page.goto(`http://127.0.0.1:${d.server.port}/`);
      expect(refused?.status()).toBe(403);
      expect(await d.page.content()).toContain("refused: open the URL relup observe printed");
      const events = await d.page.goto(`http://127.0.0.1:${d.server.port}/events`);
      expect(events?.status()).toBe(403);
    } finally {
      await d.close();
    }
  }, 60_000);

  it("nothing the page can do changes the node", async () => {
    const d = await openDashboard();
    try {
      await expect.poll(() => d.page.locator('#trees li[data-module="calculator/sup"]').count(), { timeout: 15_000 }).toBe(1);
      const before = await controlRequest(d.n.root, { cmd: "processes" });
      const status = await controlRequest(d.n.root, { cmd: "status" });
      // Every field filled, every option chosen, every button clicked (twice: paging both ways).
      await d.page.fill("#search", "http");
      await expect.poll(() => d.page.locator("#process-list tbody tr").count(), { timeout: 15_000 }).toBe(1);
      await d.page.fill("#search", "");
      for (const value of ["running", "suspended", "exiting", ""]) await d.page.selectOption("#status-filter", value);
      for (const value of ["queue", "pid"]) await d.page.selectOption("#sort", value);
      for (let round = 0; round < 2; round++) {
        const buttons = d.page.locator("button:enabled");
        for (let i = 0; i < (await buttons.count()); i++) await buttons.nth(i).click({ timeout: 2_000 }).catch(() => undefined);
      }
      await d.page.keyboard.press("Enter");
      expect(d.requests.length).toBeGreaterThan(5);
      for (const r of d.requests) {
        expect(r.method).toBe("GET");
        expect(r.url.startsWith(d.server.url)).toBe(true);
      }
      const after = await controlRequest(d.n.root, { cmd: "processes" });
      expect(after.map((p) => [p.pid, p.module, p.status])).toEqual(before.map((p) => [p.pid, p.module, p.status]));
      const now = await controlRequest(d.n.root, { cmd: "status" });
      expect({ pid: now.pid, release: now.release, modules: now.modules }).toEqual({ pid: status.pid, release: status.release, modules: status.modules });
      expect((await controlRequest(d.n.root, { cmd: "journal" })).records).toEqual([]);
      expect(d.problems).toEqual([]);
    } finally {
      await d.close();
    }
  }, 60_000);
});
